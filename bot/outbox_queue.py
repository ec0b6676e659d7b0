"""The outbox's writing side: what use cases call to queue a message in their transaction.

No Telegram here (use cases import this through `bot.deps`): a notification is queued as a
typed intent (`bot.domain.notices.Notice`) and rendered by the worker when it is sent
(`bot.outbox.Outbox`, which extends this class with the delivery loop). Plain texts can be
queued too, with an inline or a reply keyboard (any object with `to_dict()`, e.g. a
python-telegram-bot markup); the payload records which kind of keyboard it carries.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.clock import Clock
from bot.domain.notices import Notice
from storage import outbox as repo
from storage.conn import Conn
from storage.db import Database

# Payload keys of a text row. Rows queued before notices were typed have only "text" and,
# optionally, an inline "reply_markup": they are still sent as they are.
TEXT = "text"
MARKUP = "reply_markup"
MARKUP_KIND = "markup"
# A photo row: the picture is a file (path) written before the row was queued; TEXT is its
# caption (at most 1,024 characters).
PHOTO = "photo"


class Markup(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


def markup_kind(data: dict[str, Any]) -> str:
    """inline | reply | remove | force_reply, from the Bot API shape of the markup."""
    if "inline_keyboard" in data:
        return "inline"
    if "keyboard" in data:
        return "reply"
    if "remove_keyboard" in data:
        return "remove"
    if "force_reply" in data:
        return "force_reply"
    raise ValueError(f"not a reply markup: {sorted(data)}")


def text_payload(text: str, reply_markup: Markup | dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    payload: dict[str, Any] = {TEXT: text}
    if reply_markup is not None:
        data = reply_markup if isinstance(reply_markup, dict) else reply_markup.to_dict()
        payload[MARKUP] = data
        payload[MARKUP_KIND] = markup_kind(data)
    return payload


class OutboxQueue:
    """Queue rows inside the caller's transaction; the worker wakes after `kick()`."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._wake = asyncio.Event()
        self.idle = asyncio.Event()

    async def enqueue(self, conn: Conn, *, chat_id: int, key: str, kind: str,
                      text: str, ticket_id: int | None = None,
                      reply_markup: Markup | dict[str, Any] | None = None,
                      delay: timedelta | None = None) -> bool:
        """Queue a ready text (exactly once per key); False when the key was queued before."""
        return await self._add(conn, key=key, chat_id=chat_id, kind=kind,
                               payload=text_payload(text, reply_markup), ticket_id=ticket_id,
                               delay=delay)

    async def enqueue_photo(self, conn: Conn, *, chat_id: int, key: str,
                            kind: str, path: str, caption: str) -> bool:
        """Queue a picture from a file (exactly once per key); the file must outlive the row."""
        return await self._add(conn, key=key, chat_id=chat_id, kind=kind,
                               payload={TEXT: caption[:1024], PHOTO: path}, ticket_id=None,
                               delay=None)

    async def notify(self, conn: Conn, notice: Notice, *,
                     delay: timedelta | None = None) -> bool:
        """Queue a typed notification; it is rendered when it is sent (not before its
        `not_before`, if it has one)."""
        return await self._add(conn, key=notice.key, chat_id=notice.chat_id, kind=notice.kind,
                               payload=notice.payload(), ticket_id=notice.ticket_id,
                               delay=delay, not_before=notice.not_before)

    async def enqueue_many(self, conn: Conn, notices: list[Notice]) -> int:
        """Like `notify` for many notices in one statement (batch jobs: one thread round
        trip instead of one per message). Same idempotency keys; returns how many were new."""
        if not notices:
            return 0
        added = await repo.enqueue_many(
            conn, [(n.key, n.chat_id, n.ticket_id, n.kind, n.payload(), n.not_before)
                   for n in notices], self.clock.now())
        if added:
            self.kick()
        return added

    async def _add(self, conn: Conn, *, key: str, chat_id: int, kind: str,
                   payload: dict[str, Any], ticket_id: int | None,
                   delay: timedelta | None, not_before: datetime | None = None) -> bool:
        now = self.clock.now()
        if delay:
            not_before = max(not_before or now, now + delay)
        added = await repo.enqueue(conn, idem_key=key, chat_id=chat_id, kind=kind,
                                   payload=payload, ticket_id=ticket_id, now=now,
                                   not_before=not_before)
        if added:
            self.kick()
        return added

    def kick(self) -> None:
        self.idle.clear()
        self._wake.set()
