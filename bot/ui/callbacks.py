"""Callback data, built and parsed only here: `feature:action:arg...`, at most 64 bytes.

Two levels:
- the wire format (`build`, `parse`): colon-separated parts, checked for size;
- typed buttons: one frozen dataclass per namespace (aiogram's CallbackData idea), declared
  with its prefix and, where a namespace's actions carry different arguments, the one action
  it stands for. `pack()` writes it, `unpack()` reads any registered class back, and
  `dispatch` tables map a parsed button's action to its handler.

Anything that does not parse — a menu from an earlier version, forged data, a field of the
wrong type — becomes `None`, and the caller answers "this menu has expired" instead of acting.
The wire format is unchanged from the first version, so buttons already in people's chats and
in queued outbox rows keep working.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Self, TypeVar

MAX_BYTES = 64
_SEP = ":"
# Numbers in buttons are database ids, pages and counts: SQLite's 64-bit range bounds them,
# so a forged huge number parses to "expired" instead of overflowing a query.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


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


# ---------------------------------------------------------------------------- typed buttons

_REGISTRY: dict[str, type[CallbackData]] = {}   # "prefix" or "prefix:action" -> class


class CallbackData:
    """Base of the typed buttons. Subclass as a frozen dataclass:

        @dataclass(frozen=True)
        class CardButton(CallbackData, prefix="st"):
            action: CardAction          # an Enum: the first field is the action
            ticket_id: int

        @dataclass(frozen=True)
        class QueuePage(CallbackData, prefix="st", action="q"):
            kind: str                   # a fixed action: the fields are its arguments
            page: int

    Fields are int, str, bool, an Enum, or `X | None` (packed as an empty part); fields with
    defaults may be left out at the end of old data.
    """

    prefix: ClassVar[str]
    fixed_action: ClassVar[str | None] = None   # None: the first field is the action

    def __init_subclass__(cls, *, prefix: str, action: str | None = None,
                          **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or _SEP in prefix or (action is not None and _SEP in action):
            raise ValueError(f"bad callback prefix/action {prefix!r}/{action!r}")
        key = prefix if action is None else f"{prefix}{_SEP}{action}"
        if key in _REGISTRY:
            raise ValueError(f"callback namespace {key!r} registered twice")
        cls.prefix = prefix
        cls.fixed_action = action
        _REGISTRY[key] = cls

    def pack(self) -> str:
        fixed = self.fixed_action
        values = [_to_part(getattr(self, f.name)) for f in dataclasses.fields(self)]  # type: ignore[arg-type]
        if fixed is not None:
            return build(self.prefix, fixed, *values)
        if not values or not values[0]:
            raise ValueError(f"{type(self).__name__} has no action to pack")
        return build(self.prefix, values[0], *values[1:])

    @classmethod
    def pattern(cls) -> str:
        """Regex for CallbackQueryHandler matching this class's data."""
        return pattern(cls.prefix, cls.fixed_action)

    @classmethod
    def unpack(cls, data: str | None) -> Self | None:
        """This class from `data`, or None (another class, stale or forged)."""
        item = unpack(data)
        return item if isinstance(item, cls) else None


def _to_part(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _from_part(kind: Any, text: str) -> Any:
    """Convert one part to the field type; ValueError when it does not fit."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if text == "":
            return None
        return _from_part(options[0], text)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(text)
    if kind is bool:
        if text not in ("0", "1"):
            raise ValueError(text)
        return text == "1"
    if kind is int:
        if not re.fullmatch(r"-?\d{1,19}", text) or not INT_MIN <= int(text) <= INT_MAX:
            raise ValueError(text)
        return int(text)
    if kind is str:
        return text
    raise TypeError(f"unsupported callback field type {kind!r}")


_Fields = tuple[dict[str, Any], tuple[dataclasses.Field[Any], ...]]
_FIELDS: dict[type[CallbackData], _Fields] = {}


def _fields(cls: type[CallbackData]) -> _Fields:
    """A button class's field types and fields (read once per class: `get_type_hints`
    evaluates the annotations each time it is called)."""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = (typing.get_type_hints(cls),
                                dataclasses.fields(cls))  # type: ignore[arg-type]
    return found


def unpack(data: str | None) -> CallbackData | None:
    """Any registered button from `data`, or None when it does not parse."""
    raw = parse(data)
    if raw is None:
        return None
    cls = _REGISTRY.get(raw.pattern_key())
    parts: list[str] = list(raw.args)
    if cls is None:
        cls = _REGISTRY.get(raw.feature)
        parts = [raw.action, *raw.args]
    if cls is None:
        return None
    hints, fields = _fields(cls)
    if len(parts) > len(fields):
        return None
    values: dict[str, Any] = {}
    try:
        for index, field in enumerate(fields):
            if index < len(parts):
                values[field.name] = _from_part(hints[field.name], parts[index])
            elif (field.default is dataclasses.MISSING
                  and field.default_factory is dataclasses.MISSING):
                return None
        return cls(**values)
    except (ValueError, TypeError):
        return None


H = TypeVar("H")


def dispatch(table: dict[Any, H], item: CallbackData | None, key: str = "action") -> H | None:
    """The handler for a parsed button's action (None: expired or unknown)."""
    if item is None:
        return None
    return table.get(getattr(item, key, None))
