"""Notifications rendered in the recipient's language and queued in the outbox."""

from __future__ import annotations

from collections.abc import Callable

import aiosqlite
from telegram import InlineKeyboardMarkup

from bot.deps import Deps
from bot.i18n import Translator, choose_locale, translator
from storage import people

Render = Callable[[Translator], str]
Markup = Callable[[Translator], InlineKeyboardMarkup | None]


async def translator_for(conn: aiosqlite.Connection, deps: Deps, chat_id: int) -> Translator:
    """A person's chosen language; groups and unknown chats get the default."""
    stored = None
    if chat_id > 0:
        person = await people.get(conn, chat_id)
        stored = person.locale if person else None
    return translator(choose_locale(stored, None, deps.settings.default_locale))


async def notify(conn: aiosqlite.Connection, deps: Deps, chat_id: int, *, key: str, kind: str,
                 render: Render, ticket_id: int | None = None,
                 markup: Markup | None = None) -> bool:
    """Queue one message for `chat_id` inside the caller's transaction (exactly once per key)."""
    tr = await translator_for(conn, deps, chat_id)
    return await deps.outbox.enqueue(conn, chat_id=chat_id, key=key, kind=kind,
                                     text=render(tr), ticket_id=ticket_id,
                                     reply_markup=markup(tr) if markup else None)
