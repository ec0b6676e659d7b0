"""Reading a gettext catalogue as (msgid, translation) pairs, for tests over every string."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def strings(locale: str) -> list[tuple[str, str]]:
    """Every translated form of every message (plurals: each form) in `locale`."""
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    out = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        out += [(msgid, form) for form in forms if form]
    return out
