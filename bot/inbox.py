"""Updates are kept in the `inbox` table before Telegram is told they arrived.

PTB confirms a batch (the next getUpdates offset) before it handles it, so a process killed
mid-batch would lose those updates. `bot.reliable_bot.ReliableBot` hands every batch
getUpdates returns to `Inbox.store`, which commits it before the batch goes on to PTB; an
update's row is deleted once it was handled (`handled`, called by `bot.update_order`),
in the next write. At start, before polling, `replay` puts what is left into the
application's queue; `processed_updates` (handlers/common.py) drops the ones a previous run
had already started, so each is handled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import NetworkError

from bot.clock import Clock
from storage import inbox as repo
from storage.db import Database

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
KEEP = timedelta(days=7)          # as long as the dedupe remembers update ids


class Inbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._done: set[int] = set()
        self._flush: asyncio.Task[None] | None = None

    async def store(self, updates: list[dict[str, Any]]) -> None:
        """Keep a fetched batch (and forget the handled ones) in one transaction. A failure
        is a network error to PTB: it fetches the same batch again, unconfirmed."""
        done, self._done = self._done, set()
        try:
            async with self.db.tx() as conn:
                if updates:
                    await repo.store(conn, updates, self.clock.now())
                if done:
                    await repo.forget(conn, done)
        except Exception as exc:
            self._done |= done
            if not updates:
                raise
            log.warning("inbox: could not store %d updates: %r", len(updates), exc)
            raise NetworkError(f"inbox not stored: {exc!r}") from exc

    def handled(self, update_id: int) -> None:
        """This update's handling ended (well or not): its row goes with the next write."""
        self._done.add(update_id)
        if self._flush is None or self._flush.done():
            with contextlib.suppress(RuntimeError):      # no running loop: next store
                self._flush = asyncio.get_running_loop().create_task(
                    self._flush_later(), name="inbox-flush")

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        await self.flush()

    async def flush(self) -> None:
        if not self._done or not self.db.is_open:
            return
        try:
            await self.store([])
        except Exception:
            log.warning("inbox: could not forget handled updates", exc_info=True)

    async def close(self) -> None:
        if self._flush is not None and not self._flush.done():
            self._flush.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush
        await self.flush()

    async def prune(self) -> None:
        async with self.db.tx() as conn:
            await repo.prune(conn, self.clock.now(), KEEP)

    async def replay(self, queue: asyncio.Queue[object], bot: Any) -> int:
        """Put the updates a previous run (or the old leader) fetched but did not finish
        into the application's queue, oldest first. Returns how many."""
        async with self.db.read() as conn:
            bodies = await repo.unhandled(conn)
        for body in bodies:
            update = Update.de_json(body, bot)
            if update is not None:
                await queue.put(update)
        if bodies:
            log.info("inbox: %d updates fetched before the restart are handled first",
                     len(bodies))
        return len(bodies)
