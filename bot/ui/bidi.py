"""Every text the bot sends keeps its Latin codes, /commands and phone numbers in order.

`BidiBot` is the application's bot: right before a request goes to the Bot API it passes the
message text, caption or callback-answer text through `bot.domain.text.bidi_text` (the one
formatting helper, shared by services and ui), so renderers, handlers and the outbox never
forget it and a new message gets it too. Texts with a parse mode or explicit entities are
left alone: inserting marks would break their markup or shift their offsets.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from telegram.ext import ExtBot

from bot.domain.text import bidi_text

# Bot API parameters that carry a text a person reads, and Telegram's limit for each (in
# UTF-16 code units): a text cut to the limit before sending stays within it.
TEXT_LIMITS = {"text": 4096, "caption": 1024}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def mark_request(data: dict[str, Any]) -> None:
    """Mark the readable texts of one Bot API request in place."""
    if data.get("parse_mode") or data.get("entities") or data.get("caption_entities"):
        return
    for key, limit in TEXT_LIMITS.items():
        value = data.get(key)
        if isinstance(value, str) and value:
            data[key] = _marked(value, limit)


@lru_cache(maxsize=256)
def _marked(value: str, limit: int) -> str:
    """`value` marked, unless the marks would push it over `limit`. Cached: most replies
    are the same few texts (menus, help, prompts), and marking is pure."""
    marked = bidi_text(value)
    if _utf16_len(marked) <= limit or _utf16_len(marked) <= _utf16_len(value):
        return marked
    return value


class BidiBot(ExtBot[Any]):
    """`ExtBot` whose outgoing texts go through `bidi_text` (see the module docstring)."""

    def _insert_defaults(self, data: dict[str, object]) -> None:
        super()._insert_defaults(data)
        mark_request(data)
