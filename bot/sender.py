"""One sending path: every Bot API call of the bot passes this PTB rate limiter
(`ApplicationBuilder.rate_limiter`), direct replies made in handlers and the outbox worker's
notifications alike.

Budgets (Telegram's): about 30 messages/s overall (evenly spaced), 1/s per private chat,
20/min per group. Only calls that send or edit a message count; answering a button press,
polling and the like pass at once.

Between chats it serves, in order of `Priority`: the chat whose update is being handled now
(every call without `rate_limit_args`: handlers reply to the person in front of them), then
notifications to residents about their own requests, then staff/mayor notifications, then
digests and reports (the outbox passes `rate_limit_args=priority`). Within one chat nothing
is reordered: a chat's calls go out one at a time, in the order they were made (a chat
carries the best priority of anything it has waiting, so a reply behind a digest in the
same chat pulls the digest along instead of overtaking it).

Retries: a direct reply is retried on 429 (after `retry_after`), on connection errors and
5xx, never after a read timeout (Telegram may have it: the reply would appear twice; read
timeouts are long, `READ_TIMEOUT`), and given up after `GIVE_UP_SECONDS` with a log line.
Outbox calls are not retried here (the outbox owns their lifetimes, durably); a 429 still
pauses sending here for everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import httpx
from telegram.error import RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from bot.domain.notices import PAYLOAD_KEY as NOTICE_KEY
from bot.domain.notices import RESIDENT_NOTICES
from bot.fence import FENCE
from bot.telegram_errors import Verdict, classify

log = logging.getLogger(__name__)

READ_TIMEOUT = 30.0          # seconds; a slow answer is waited for, not sent again
GIVE_UP_SECONDS = 180.0      # a direct reply that cannot get through by then is dropped
BACKOFF_BASE = 0.5
BACKOFF_MAX = 15.0

JSON = bool | dict[str, Any] | list[dict[str, Any]]
Call = Callable[..., Coroutine[Any, Any, JSON]]


class Priority(IntEnum):
    """Lower is served first."""

    REPLY = 0          # the person whose update is being handled
    RESIDENT = 1       # a resident hears about their own request
    STAFF = 2          # staff, mayors, team groups, escalations
    BULK = 3           # digests and reports


@dataclass(frozen=True)
class Budgets:
    per_second: float = 30.0
    private_interval: float = 1.0
    group_per_minute: int = 20
    group_window: float = 60.0

    @classmethod
    def unlimited(cls) -> Budgets:
        return cls(per_second=math.inf, private_interval=0.0, group_per_minute=10**9)


def counts_against_budget(endpoint: str, data: dict[str, Any]) -> bool:
    """Messages sent or edited in a chat; not button answers, polling or settings."""
    return ("chat_id" in data and endpoint != "sendChatAction"
            and endpoint.startswith(("send", "edit", "copy", "forward", "stop")))


def retry_reason(exc: BaseException) -> str | None:
    """Why a failed direct reply may be sent again, or None when it must not be; the one
    classifier (`bot.telegram_errors.classify`) decides what kind of failure it is.

    429: Telegram asks to wait. TRANSIENT (connection errors, 5xx): retry, except a read or
    write timeout: Telegram may have the message, so never (a slow answer would become two
    messages); a connect or pool timeout never reached it."""
    found = classify(exc)
    if found.verdict is Verdict.RETRY_AFTER:
        return "429"
    if found.verdict is not Verdict.TRANSIENT:
        return None
    if isinstance(exc, TimedOut):
        cause = exc.__cause__
        return "not connected" if isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout) \
            else None
    return found.reason or "transient"


@dataclass(order=True)
class _Waiting:
    seq: int
    priority: int = field(compare=False)
    turn: asyncio.Future[None] = field(compare=False)


class PrioritySender(BaseRateLimiter[int]):
    def __init__(self, budgets: Budgets | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic,
                 give_up_after: float = GIVE_UP_SECONDS,
                 backoff_base: float = BACKOFF_BASE) -> None:
        self.budgets = budgets or Budgets()
        self.monotonic = monotonic
        self.give_up_after = give_up_after
        self.backoff_base = backoff_base
        self._seq = itertools.count()
        self._chats: dict[int, deque[_Waiting]] = {}   # chat -> its calls, in order
        self._busy: set[int] = set()                   # chats with a call in flight
        self._next_slot = 0.0
        self._paused_until = 0.0                       # 429: nobody sends before
        self._last_done: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def _spacing(self) -> float:
        """Seconds between two calls under the overall budget (evenly spaced)."""
        per_second = self.budgets.per_second
        return 0.0 if math.isinf(per_second) else 1 / per_second

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # ---------------------------------------------------------------- PTB's entry point

    async def process_request(self, callback: Call, args: Any, kwargs: dict[str, Any],
                              endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> JSON:
        FENCE.check()          # a process that lost the leadership sends nothing more
        if not counts_against_budget(endpoint, data):
            return await callback(*args, **kwargs)
        priority = Priority.REPLY if rate_limit_args is None else Priority(rate_limit_args)
        chat_id = _chat(data["chat_id"])
        started = self.monotonic()
        await self._turn(chat_id, priority)
        try:       # the chat stays ours while we retry: its later calls wait behind
            for attempt in itertools.count(1):
                FENCE.check()      # also after waiting for the chat's turn or a retry
                try:
                    return await callback(*args, **kwargs)
                except Exception as exc:
                    wait = self._retry_wait(exc, priority, attempt)
                    if wait is None:
                        raise
                    if self.monotonic() - started + wait > self.give_up_after:
                        log.warning("reply to chat %s (%s) given up after %d attempts in "
                                    "%.0f s: %s", chat_id, endpoint, attempt,
                                    self.monotonic() - started, exc)
                        raise
                    log.info("reply to chat %s (%s) failed (%s); retrying in %.1f s",
                             chat_id, endpoint, retry_reason(exc), wait)
                    await asyncio.sleep(wait)
            raise AssertionError("unreachable")
        finally:
            self._finish(chat_id)

    def _retry_wait(self, exc: Exception, priority: Priority, attempt: int) -> float | None:
        """Seconds to wait before sending again, or None: not retried here."""
        if isinstance(exc, RetryAfter):
            seconds = _seconds(exc.retry_after)
            self.pause(seconds)
            return seconds + 0.1 if priority is Priority.REPLY else None
        if priority is not Priority.REPLY or retry_reason(exc) is None:
            return None
        return float(min(self.backoff_base * 2.0 ** (attempt - 1), BACKOFF_MAX))

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody sends before `seconds` from now."""
        self._paused_until = max(self._paused_until, self.monotonic() + seconds)
        self._wake.set()

    # ---------------------------------------------------------------- the queue

    async def _turn(self, chat_id: int, priority: Priority) -> None:
        """Wait until this call may go: it is the first of its chat, no better chat is
        waiting, and the budgets allow. A direct reply (the best class; later ones come
        after it) goes at once when nothing is waiting and the budgets allow now: what the
        dispatcher would decide, without the trip through it."""
        now = self.monotonic()
        if (priority is Priority.REPLY and not self._chats and chat_id not in self._busy
                and self._next_slot <= now and self._ready_at(chat_id, now) <= now):
            self._grant(chat_id, now)
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._dispatch(),
                                                                name="sender")
        waiting = _Waiting(next(self._seq), priority,
                           asyncio.get_running_loop().create_future())
        self._chats.setdefault(chat_id, deque()).append(waiting)
        self._wake.set()
        try:
            await waiting.turn
        except asyncio.CancelledError:
            queue = self._chats.get(chat_id)
            if queue is not None and waiting in queue:
                queue.remove(waiting)
                if not queue:
                    del self._chats[chat_id]
            elif waiting.turn.done() and not waiting.turn.cancelled():
                self._finish(chat_id)     # granted just as it was cancelled
            raise

    def _grant(self, chat_id: int, now: float) -> None:
        """This chat's call goes now: it holds the chat and takes the next overall slot."""
        self._busy.add(chat_id)
        self._next_slot = max(self._next_slot, now) + self._spacing

    def _finish(self, chat_id: int) -> None:
        """A chat's call is answered (or failed): its budget counts from now."""
        self._busy.discard(chat_id)
        now = self.monotonic()
        if chat_id > 0:
            self._last_done[chat_id] = now
        else:
            self._group_sends.setdefault(chat_id, deque()).append(now)
        if self._chats:            # someone waits (maybe for this chat or this moment)
            self._wake.set()

    def _ready_at(self, chat_id: int, now: float) -> float:
        ready = self._paused_until
        if chat_id > 0:
            last = self._last_done.get(chat_id)
            if last is not None:
                ready = max(ready, last + self.budgets.private_interval)
        else:
            sends = self._group_sends.get(chat_id)
            if sends:
                while sends and sends[0] <= now - self.budgets.group_window:
                    sends.popleft()
                if len(sends) >= self.budgets.group_per_minute:
                    ready = max(ready, sends[-self.budgets.group_per_minute]
                                + self.budgets.group_window)
        return ready

    async def _dispatch(self) -> None:
        """Grant turns: best (priority, order) chat among those whose budget allows."""
        while True:
            now = self.monotonic()
            best: tuple[int, int, int] | None = None
            soonest = math.inf
            for chat_id, queue in self._chats.items():
                if chat_id in self._busy:
                    continue
                ready = self._ready_at(chat_id, now)
                if ready > now:
                    soonest = min(soonest, ready)
                    continue
                candidate = (min(w.priority for w in queue), queue[0].seq, chat_id)
                if best is None or candidate < best:
                    best = candidate
            if best is None:
                self._wake.clear()
                timeout = None if math.isinf(soonest) else max(soonest - now, 0.001)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                continue
            if self._next_slot > now:    # the overall budget: evenly spaced slots
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._next_slot - now)
                continue                  # look again: a better chat may have come
            _, _, chat_id = best
            queue = self._chats[chat_id]
            waiting = queue.popleft()
            if not queue:
                del self._chats[chat_id]
            if waiting.turn.done():       # cancelled meanwhile
                continue
            self._grant(chat_id, now)
            waiting.turn.set_result(None)
            if self._spacing == 0.0:
                await asyncio.sleep(0)


def _chat(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1           # @channelname: treat like a group


def _seconds(value: object) -> float:
    if isinstance(value, int | float):
        return float(value)
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else 1.0


def outbox_priority(payload: dict[str, Any], kind: str) -> Priority:
    """How urgent an outbox row is: a resident hearing about their own request, then
    staff/mayor notifications, then digests and reports."""
    notice = str(payload.get(NOTICE_KEY, ""))
    if notice == "digest" or "digest" in kind or "report" in kind:
        return Priority.BULK
    if notice in {n.value for n in RESIDENT_NOTICES} or kind.startswith("resident"):
        return Priority.RESIDENT
    return Priority.STAFF


def priority_args(bot: object, priority: Priority) -> dict[str, Any]:
    """`rate_limit_args` for a call, when the bot has a rate limiter (plain Bots in tools
    and tests do not take the argument)."""
    return {"rate_limit_args": int(priority)} if getattr(bot, "rate_limiter", None) else {}
