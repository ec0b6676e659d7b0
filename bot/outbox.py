"""Durable delivery of notifications.

A notification is a row written in the same transaction as the change that causes it
(`storage.outbox.enqueue`), so a crash can never lose one or invent one. A single worker
task drains due rows in order. A row is marked `sending` (committed) before the Telegram call
and `sent` after it: after a crash only that one in-flight row can be sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

import aiosqlite
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.clock import Clock
from storage import outbox as repo
from storage import people
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
BATCH = 50
MAX_ATTEMPTS = 8


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut long text into Telegram-sized parts, at a line break or space when possible."""
    parts = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n ")
    parts.append(text)
    return [p for p in parts if p]


class Outbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()

    async def enqueue(self, conn: aiosqlite.Connection, *, chat_id: int, key: str, kind: str,
                      text: str, ticket_id: int | None = None,
                      reply_markup: InlineKeyboardMarkup | None = None,
                      delay: timedelta | None = None) -> bool:
        """Queue a message inside the caller's transaction; the worker wakes after commit."""
        payload: dict[str, Any] = {"text": text}
        if reply_markup is not None:
            payload["reply_markup"] = reply_markup.to_dict()
        now = self.clock.now()
        added = await repo.enqueue(conn, idem_key=key, chat_id=chat_id, kind=kind,
                                   payload=payload, ticket_id=ticket_id, now=now,
                                   not_before=now + delay if delay else None)
        if added:
            self.kick()
        return added

    def kick(self) -> None:
        self.idle.clear()
        self._wake.set()

    def start(self, bot: Bot) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(bot), name="outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, bot: Bot) -> None:
        while True:
            try:
                sent = await self.drain_once(bot)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox worker failed; retrying")
                sent = 0
            if sent:
                continue
            self.idle.set()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def drain_once(self, bot: Bot) -> int:
        """Send what is due now; returns how many rows were handled."""
        async with self.db.read() as conn:
            batch = await repo.due(conn, self.clock.now(), BATCH)
        for message in batch:
            await self._deliver(bot, message)
        return len(batch)

    async def _deliver(self, bot: Bot, message: OutboxMessage) -> None:
        async with self.db.tx() as conn:
            await repo.mark_sending(conn, message.id)
        now = self.clock.now()
        try:
            sent_id = await self._send(bot, message)
        except RetryAfter as exc:
            wait = exc.retry_after if isinstance(exc.retry_after, int | float) else \
                exc.retry_after.total_seconds()
            await self._retry(message, timedelta(seconds=float(wait)), str(exc))
        except Forbidden as exc:
            log.info("chat %s blocked the bot; outbox row %s dropped", message.chat_id,
                     message.id)
            async with self.db.tx() as conn:
                await repo.mark_failed(conn, message.id, str(exc))
                await people.mark_unreachable(conn, message.chat_id, now)
        except BadRequest as exc:
            log.warning("outbox row %s rejected: %s", message.id, exc)
            async with self.db.tx() as conn:
                await repo.mark_failed(conn, message.id, str(exc))
        except (TimedOut, NetworkError) as exc:
            if message.attempts + 1 >= MAX_ATTEMPTS:
                async with self.db.tx() as conn:
                    await repo.mark_failed(conn, message.id, str(exc))
            else:
                await self._retry(message, timedelta(seconds=2 ** message.attempts), str(exc))
        else:
            async with self.db.tx() as conn:
                await repo.mark_sent(conn, message.id, sent_id, self.clock.now())

    async def _retry(self, message: OutboxMessage, wait: timedelta, error: str) -> None:
        async with self.db.tx() as conn:
            await repo.mark_retry(conn, message.id, self.clock.now() + wait, error)

    async def _send(self, bot: Bot, message: OutboxMessage) -> int:
        payload = message.payload
        markup_data = payload.get("reply_markup")
        markup = InlineKeyboardMarkup.de_json(markup_data, bot) if markup_data else None
        parts = split_text(str(payload["text"]))
        sent_id = 0
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            sent = await bot.send_message(message.chat_id, part,
                                          reply_markup=markup if last else None)
            sent_id = sent.message_id
        return sent_id
