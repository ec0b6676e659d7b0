"""Different people's updates at the same time, each person's and chat's one at a time.

PTB's own concurrent processing takes a slot and runs; updates of one chat could then
overtake each other (and a ConversationHandler needs one update at a time per
conversation). `PerChatProcessor` first waits for the update's turn in its chat and for its
sender (both, in a fixed order, first come first served), then takes one of
`max_concurrent_updates` slots: a chat with many updates waiting holds at most one slot,
so it cannot fill them all. A reply held back by a chat's 1 message/s budget then delays
only that chat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

UNBOUNDED = 2**31


class PerChatProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int, *, busy: set[int] | None = None,
                 on_done: Callable[[list[int]], None] | None = None,
                 on_handled: Callable[[int], Awaitable[None]] | None = None) -> None:
        """`busy`: filled with the chats and people whose update is being handled (the outbox
        holds their notifications meanwhile); `on_done(keys)` is called when one is finished;
        `on_handled(update_id)` too (the inbox forgets it, `bot/inbox.py`)."""
        # PTB's own semaphore is taken before `do_process_update` (its `process_update` is
        # final): make it never wait, and take our slots after the chat's turn instead.
        super().__init__(UNBOUNDED)
        self.slots = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self.busy = busy if busy is not None else set()
        self.on_done = on_done
        self.on_handled = on_handled
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}       # key -> updates holding or awaiting it

    @staticmethod
    def keys(update: object) -> list[int]:
        """Whose order this update belongs to: its chat and its sender, sorted (a fixed
        order of taking them, so two updates never wait for each other in a circle)."""
        if not isinstance(update, Update):
            return []
        found = set()
        if update.effective_chat is not None:
            found.add(update.effective_chat.id)
        if update.effective_user is not None:
            found.add(update.effective_user.id)
        return sorted(found)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        keys = self.keys(update)
        for key in keys:
            self._users[key] = self._users.get(key, 0) + 1
        try:
            async with AsyncExitStack() as stack:
                for key in keys:
                    await stack.enter_async_context(self._locks.setdefault(key, asyncio.Lock()))
                async with self._slots:        # only now a slot
                    self.busy.update(keys)
                    try:
                        await coroutine
                    finally:
                        # The inbox forgets it first, while the chat is still busy (its
                        # notifications wait until the interaction is over).
                        try:
                            if self.on_handled is not None and isinstance(update, Update):
                                await self.on_handled(update.update_id)
                        finally:
                            self.busy.difference_update(keys)
                            if self.on_done is not None:
                                self.on_done(keys)
        finally:
            for key in keys:
                self._users[key] -= 1
                if not self._users[key]:
                    del self._users[key]
                    self._locks.pop(key, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
