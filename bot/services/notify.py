"""Notifications rendered in the recipient's language and queued in the outbox."""

from __future__ import annotations

from collections.abc import Callable

import aiosqlite
from telegram import InlineKeyboardMarkup

from bot.deps import Deps
from bot.domain.models import Person
from bot.i18n import Translator, choose_locale, translator
from bot.outbox import Queued
from storage import people

Render = Callable[[Translator], str]
Markup = Callable[[Translator], InlineKeyboardMarkup | None]


async def translator_for(conn: aiosqlite.Connection, deps: Deps, chat_id: int,
                         people_cache: dict[int, Person | None] | None = None) -> Translator:
    """A person's chosen language; groups and unknown chats get the default.

    `people_cache` lets a batch (the SLA sweep) read each person once per transaction."""
    stored = None
    if chat_id > 0:
        if people_cache is None:
            person = await people.get(conn, chat_id)
        elif chat_id in people_cache:
            person = people_cache[chat_id]
        else:
            person = people_cache[chat_id] = await people.get(conn, chat_id)
        stored = person.locale if person else None
    return translator(choose_locale(stored, None, deps.settings.default_locale))


async def prepare(conn: aiosqlite.Connection, deps: Deps, chat_id: int, *, key: str, kind: str,
                  render: Render, ticket_id: int | None = None, markup: Markup | None = None,
                  people_cache: dict[int, Person | None] | None = None) -> Queued:
    """Render a notification for `deps.outbox.enqueue_many` in the same transaction: batch
    jobs (the SLA sweep) write all their messages in one statement."""
    tr = await translator_for(conn, deps, chat_id, people_cache)
    return Queued(chat_id=chat_id, key=key, kind=kind, text=render(tr), ticket_id=ticket_id,
                  reply_markup=markup(tr) if markup else None)


async def notify(conn: aiosqlite.Connection, deps: Deps, chat_id: int, *, key: str, kind: str,
                 render: Render, ticket_id: int | None = None,
                 markup: Markup | None = None) -> bool:
    """Queue one message for `chat_id` inside the caller's transaction (exactly once per key)."""
    message = await prepare(conn, deps, chat_id, key=key, kind=kind, render=render,
                            ticket_id=ticket_id, markup=markup)
    return await deps.outbox.enqueue(conn, chat_id=chat_id, key=key, kind=kind,
                                     text=message.text, ticket_id=ticket_id,
                                     reply_markup=message.reply_markup)
