"""Callback data: `feature:action:arg...`, at most 64 bytes, built and parsed only here.

Anything that does not parse (old menus from an earlier version, forged data) becomes
`None`, and the caller answers politely instead of acting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_SEP = ":"


@dataclass(frozen=True, slots=True)
class Callback:
    feature: str
    action: str
    args: tuple[str, ...] = ()

    def int_arg(self, index: int = 0) -> int | None:
        try:
            return int(self.args[index])
        except (IndexError, ValueError):
            return None

    def pattern_key(self) -> str:
        return f"{self.feature}{_SEP}{self.action}"


def build(feature: str, action: str, *args: object) -> str:
    parts = [feature, action, *(str(a) for a in args)]
    if any(_SEP in p or not p for p in parts[:2]):
        raise ValueError(f"bad callback part in {parts!r}")
    if any(_SEP in p for p in parts[2:]):
        raise ValueError(f"':' not allowed in callback args {parts!r}")
    data = _SEP.join(parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def parse(data: str | None) -> Callback | None:
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    parts = data.split(_SEP)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return None
    return Callback(parts[0], parts[1], tuple(parts[2:]))


def pattern(feature: str, action: str | None = None) -> str:
    """Regex for CallbackQueryHandler(pattern=...) matching one feature (and action)."""
    prefix = re.escape(f"{feature}{_SEP}")
    if action:
        prefix += re.escape(action) + f"(?:{_SEP}|$)"
    return "^" + prefix
