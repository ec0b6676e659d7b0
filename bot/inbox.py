"""Updates are kept in the `inbox` table before Telegram is told they arrived.

PTB confirms a batch (the next getUpdates offset) before it handles it, so a process killed
mid-batch would lose those updates. `bot.reliable_bot.ReliableBot` hands every batch
getUpdates returns to `Inbox.store`, which commits it before the batch goes on to PTB; an
update's row is deleted as soon as it was handled (`handled`, called by `bot.update_order`).
At start, before polling, `replay` puts what is left into the application's queue, first
dropping the `processed_updates` claims of those a previous run had started but not
finished (killed while handling them), so they are handled again rather than skipped: no
update is lost; one interrupted in the middle may do its step twice (steps are written to
be repeated: a form step shows its screen again, a filing is keyed, a repeated state
change is refused). Updates fetched again from Telegram (the old batch was not confirmed)
are dropped as repeats by the dedupe (handlers/common.py).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import NetworkError

from bot.clock import Clock
from bot.fence import FENCE
from storage import inbox as repo
from storage.db import Database

log = logging.getLogger(__name__)

KEEP = timedelta(days=7)          # as long as the dedupe remembers update ids


class Inbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._kept: set[int] = set()          # stored and not yet handled
        self._done: set[int] = set()

    async def store(self, updates: list[dict[str, Any]]) -> None:
        """Keep a fetched batch, in one transaction. A failure is a network error to PTB:
        it fetches the same batch again, unconfirmed."""
        try:
            async with self.db.tx() as conn:
                await repo.store(conn, updates, self.clock.now())
            self._kept.update(int(u["update_id"]) for u in updates)
        except Exception as exc:
            log.warning("inbox: could not store %d updates: %r", len(updates), exc)
            raise NetworkError(f"inbox not stored: {exc!r}") from exc

    def keeps(self, update_id: int) -> bool:
        """Stored already (by this run) and not handled yet."""
        return update_id in self._kept

    async def handled(self, update_id: int) -> None:
        """This update's handling ended (well or not): its row goes now, so a crash right
        after does not handle it again (with those that could not go before)."""
        if not FENCE.acting:
            return     # not leading any more: it may have been cut short; the new leader has it
        self._kept.discard(update_id)
        self._done.add(update_id)
        await self._forget_done()

    async def _forget_done(self) -> None:
        if not self._done or not self.db.is_open:
            return
        done, self._done = self._done, set()
        try:
            async with self.db.autocommit() as conn:
                await repo.forget(conn, done)
        except Exception:
            self._done |= done                           # tried again with the next one
            log.warning("inbox: could not forget handled updates", exc_info=True)

    async def close(self) -> None:
        await self._forget_done()

    async def prune(self) -> None:
        async with self.db.tx() as conn:
            await repo.prune(conn, self.clock.now(), KEEP)

    async def replay(self, queue: asyncio.Queue[object], bot: Any) -> int:
        """Put the updates a previous run (or the old leader) fetched but did not finish
        into the application's queue, oldest first. Returns how many."""
        async with self.db.tx() as conn:
            again = await repo.unclaim_interrupted(conn)
            bodies = await repo.unhandled(conn)
        if again:
            log.info("inbox: %d updates interrupted while being handled are handled again",
                     again)
        self._kept.update(int(body["update_id"]) for body in bodies)
        for body in bodies:
            update = Update.de_json(body, bot)
            if update is not None:
                await queue.put(update)
        if bodies:
            log.info("inbox: %d updates fetched before the restart are handled first",
                     len(bodies))
        return len(bodies)


class InboxQueue(asyncio.Queue[object]):
    """The application's update queue. Polling stores each batch in `ReliableBot` already;
    an update that arrives otherwise (the webhook, which answers Telegram 200 only after
    this `put`) is stored here first, so a failing store makes Telegram deliver it again."""

    def __init__(self, inbox: Inbox) -> None:
        super().__init__()
        self.inbox = inbox

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and not self.inbox.keeps(item.update_id):
            await self.inbox.store([item.to_dict()])
        await super().put(item)
