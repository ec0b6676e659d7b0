"""Telegram's length limits, counted as Telegram counts: in UTF-16 code units (an emoji
outside the Basic Multilingual Plane counts two), 4096 for a text, 1024 for a caption."""

from __future__ import annotations

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
QUOTE_LIMIT = 60        # user input echoed back in a reply ("No request matches «…»")
ELLIPSIS = "…"


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _prefix(text: str, units: int) -> int:
    """How many characters of `text` fit in `units` UTF-16 code units (never half a pair)."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            return index
    return len(text)


def trim(text: str, limit: int = TEXT_LIMIT) -> str:
    """At most `limit` UTF-16 units; a cut text ends with an ellipsis."""
    if utf16_len(text) <= limit:
        return text
    return text[:_prefix(text, limit - 1)].rstrip() + ELLIPSIS


def quote(user_input: str, limit: int = QUOTE_LIMIT) -> str:
    """User input shown back to them: one line, shortened."""
    return trim(" ".join(user_input.split()), limit)


def split(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a long text into parts of at most `limit` UTF-16 units, at a line break or a space
    when one is in the second half of the part."""
    parts = []
    while utf16_len(text) > limit:
        fit = _prefix(text, limit)
        cut = text.rfind("\n", 0, fit)
        if cut < fit // 2:
            cut = text.rfind(" ", 0, fit)
        if cut < fit // 2:
            cut = fit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    parts.append(text)
    return [p for p in parts if p]


# Numbers typed in commands are database ids, template and role numbers: SQLite's 64-bit
# range bounds them (as in callback data, `bot.ui.callbacks`). Bigger is "not a number".
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_ASCII_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def parse_int(text: str, *, low: int = 0, high: int = INT_MAX, prefix: str = "#") -> int | None:
    """A whole number typed by a person (Persian, Arabic or ASCII digits, optionally after
    `prefix`), within [low, high]; None for anything else, however long."""
    raw = text.strip().translate(_ASCII_DIGITS)
    if prefix and raw.startswith(prefix):
        raw = raw[len(prefix):]
    sign = -1 if raw.startswith("-") else 1
    digits = raw[1:] if raw[:1] in ("+", "-") else raw
    if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        return None
    value = sign * int(digits)
    return value if low <= value <= high else None
