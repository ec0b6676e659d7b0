"""Every text the bot sends keeps its Latin codes, /commands and phone numbers in order.

`BidiBot` is the application's bot: right before a request goes to the Bot API it passes the
message text, caption or callback-answer text through `bot.domain.text.bidi_text` (the one
formatting helper, shared by services and ui), so renderers, handlers and the outbox never
forget it and a new message gets it too. Texts with a parse mode or explicit entities are
left alone: inserting marks would break their markup or shift their offsets.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import ExtBot

from bot.domain.text import bidi_text

# Bot API parameters that carry a text a person reads.
TEXT_KEYS = ("text", "caption")


def mark_request(data: dict[str, Any]) -> None:
    """Mark the readable texts of one Bot API request in place."""
    if data.get("parse_mode") or data.get("entities") or data.get("caption_entities"):
        return
    for key in TEXT_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            data[key] = bidi_text(value)


class BidiBot(ExtBot[Any]):
    """`ExtBot` whose outgoing texts go through `bidi_text` (see the module docstring)."""

    def _insert_defaults(self, data: dict[str, object]) -> None:
        super()._insert_defaults(data)
        mark_request(data)
