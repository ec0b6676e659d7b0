"""Durable, rate-limited delivery of notifications (the worker; it may use Telegram).

A notification is a row written in the same transaction as the change that causes it
(`bot.outbox_queue.OutboxQueue`, which use cases see as `deps.outbox`), so a crash can never
lose one or invent one. A typed notice (`bot.domain.notices`) is rendered right before it is
sent (`bot.ui.notices`), in the recipient's language at that moment; a text row (also every
row queued before notices were typed) is sent as it is, with its inline or reply keyboard.

The worker keeps one queue per chat (in id order) and a small pool of lanes: a chat's next
message starts only after the previous one is finished, so order is kept per chat, while
different chats are sent concurrently to reach Telegram's throughput. Pacing follows
Telegram's limits: ≤ 25 messages/s overall (evenly spaced), ≤ 1/s per private chat,
≤ 20/min per group. Every failure is classified once (`bot.telegram_errors`): a 429 pauses
that chat and all sending for `retry_after` and never counts as an attempt; network errors,
timeouts and 5xx retry with capped exponential backoff until the row's lifetime ends
(`bot.domain.delivery`: 7 days for residents' messages, a reminder until its deadline, a
digest a day), and a long outage raises one alert (`bot.alerts`); 403 (bot blocked) marks
the person unreachable and stops; other 4xx fail the row with one alert. When several chats
are ready, receipts (tracking codes) go first.

Crash safety: a row is marked `sending` (committed) right before each Telegram call and
`sent` right after it. After a crash only rows still `sending` — at most one per chat, at
most one per lane — can reach Telegram twice. Multi-part texts (> 4096 chars) record every
part sent, so a retry continues with the next part.

Rate limits and retry waits use real (monotonic) time: Telegram's limits are real time even
when the injectable clock is frozen in tests. `not_before` (delayed messages) uses the clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
)
from telegram.error import BadRequest

from bot.alerts import OutageAlarm
from bot.clock import Clock
from bot.domain.delivery import ALERT, RECEIPT, backoff, expires_at, priority
from bot.domain.limits import TEXT_LIMIT, split
from bot.domain.models import OutboxMessage
from bot.domain.notices import (
    HELD_KEY,
    PAYLOAD_KEY,
    RESIDENT_NOTICES,
    NoticeKind,
    copy_source,
)
from bot.domain.workcal import QuietHours
from bot.fence import FENCE, NotLeader
from bot.outbox_queue import MARKUP, MARKUP_KIND, PHOTO, TEXT, OutboxQueue
from bot.sender import outbox_priority, priority_args
from bot.telegram_errors import Classified, Verdict, classify
from bot.ui.notices import NoticeRenderer, is_notice
from storage import outbox as repo
from storage import people
from storage.db import Database

log = logging.getLogger(__name__)

BATCH = 500


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut long text into Telegram-sized parts (UTF-16 units), at a line break or space when
    possible."""
    return split(text, limit)


class RateLimiter:
    """Telegram's flood limits, tracked in monotonic seconds."""

    def __init__(self, *, per_second: float = 25.0, private_interval: float = 1.0,
                 group_per_minute: int = 20, group_window: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.spacing = 1.0 / per_second
        self.private_interval = private_interval
        self.group_cap = group_per_minute
        self.group_window = group_window
        self.monotonic = monotonic
        self._next_global = 0.0
        self._blocked_until = 0.0
        self._chat_blocked: dict[int, float] = {}
        self._last_done: dict[int, float] = {}
        self._group_sends: dict[int, deque[float]] = {}

    def chat_ready_at(self, chat_id: int) -> float:
        """Earliest moment this chat may receive its next message."""
        ready = max(self._blocked_until, self._chat_blocked.get(chat_id, 0.0))
        if chat_id > 0:
            last = self._last_done.get(chat_id)
            if last is not None:
                ready = max(ready, last + self.private_interval)
        else:
            sends = self._group_sends.get(chat_id)
            if sends is not None:
                horizon = self.monotonic() - self.group_window
                while sends and sends[0] <= horizon:
                    sends.popleft()
                if len(sends) >= self.group_cap:
                    ready = max(ready, sends[-self.group_cap] + self.group_window)
        return ready

    async def acquire(self, chat_id: int) -> None:
        """Wait for the chat's turn and a global slot (slots are evenly spaced)."""
        while True:
            now = self.monotonic()
            ready = self.chat_ready_at(chat_id)
            if ready > now:
                await asyncio.sleep(ready - now)
                continue
            slot = max(now, self._next_global)
            self._next_global = slot + self.spacing
            if slot > now:
                await asyncio.sleep(slot - now)
            if self.chat_ready_at(chat_id) <= self.monotonic():
                return

    def done(self, chat_id: int) -> None:
        """Count a finished send; windows run from the end of the call (safe side)."""
        now = self.monotonic()
        if chat_id > 0:
            self._last_done[chat_id] = now
        else:
            self._group_sends.setdefault(chat_id, deque()).append(now)

    def block(self, chat_id: int, seconds: float) -> None:
        """429: Telegram said wait. Pause that chat and, as we cannot tell a per-chat flood
        from a global one, every send."""
        until = self.monotonic() + seconds
        self._chat_blocked[chat_id] = max(self._chat_blocked.get(chat_id, 0.0), until)
        self._blocked_until = max(self._blocked_until, until)


ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

# How a text row's keyboard is read back; rows without the kind are from before reply
# keyboards could be queued, and carry an inline one.
_MARKUPS: dict[str, type[TelegramObject]] = {
    "inline": InlineKeyboardMarkup,
    "reply": ReplyKeyboardMarkup,
    "remove": ReplyKeyboardRemove,
    "force_reply": ForceReply,
}


class Outbox(OutboxQueue):
    """The queue's writing side (`OutboxQueue`) plus the delivery worker."""

    def __init__(self, db: Database, clock: Clock, *, lanes: int = 8,
                 limiter: RateLimiter | None = None, backoff_base: float = 1.0,
                 backoff_max: float = 60.0, notices: NoticeRenderer | None = None,
                 admin_chat_id: int | None = None, outage_alert_after: float = 60.0,
                 quiet: QuietHours | None = None, timezone: str = "Asia/Tehran") -> None:
        super().__init__(db, clock)
        self.alarm = OutageAlarm(self, admin_chat_id, after=outage_alert_after,
                                 locale=self.notices_locale(notices))
        # Quiet hours: notices to residents sent then go without a sound.
        self.quiet = quiet
        self.tz = ZoneInfo(timezone)
        self.lanes = lanes
        self.limiter = limiter or RateLimiter()
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.notices = notices or NoticeRenderer()
        self._task: asyncio.Task[None] | None = None
        self._lane_tasks: dict[int, asyncio.Task[None]] = {}   # chat_id -> running lane
        # Chats whose update is being handled now (bot/update_order.py): their replies go
        # first, a notification to them waits until that interaction's replies are out.
        self.busy_chats: set[int] = set()
        self._queues: dict[int, deque[OutboxMessage]] = {}
        self._max_loaded = 0

    def chats_done(self, chats: list[int]) -> None:
        """These chats' update is handled: send what waits for them (if anything does)."""
        if any(chat in self._queues for chat in chats):
            self._wake.set()

    @staticmethod
    def notices_locale(notices: NoticeRenderer | None) -> str:
        return notices.default_locale if notices is not None else "fa"

    def start(self, bot: Bot) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(bot), name="outbox")

    async def stop(self) -> None:
        """Stop at once, like a crash would: in-flight rows stay `sending`."""
        tasks = [t for t in (self._task, *self._lane_tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        self._lane_tasks.clear()
        self._queues.clear()
        self._max_loaded = 0

    # ------------------------------------------------------------------ scheduling

    async def _run(self, bot: Bot) -> None:
        try:
            async with self.db.tx() as conn:
                released = await repo.release_held(conn, RECEIPT, self.clock.now())
            if released:
                log.info("%s receipts from before the restart are sent now", released)
        except Exception:
            log.exception("outbox: could not release held receipts")
        while FENCE.acting:        # only the leader delivers (bot/fence.py)
            timeout = 1.0
            try:
                await self._load()
                timeout = self._dispatch(bot)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox worker failed; retrying")
            if not self._lane_tasks and not self._has_due():
                self.idle.set()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _load(self) -> None:
        """Append rows not seen yet to their chat's queue (ids only grow, so order holds)."""
        async with self.db.read() as conn:
            rows = await repo.unfinished_after(conn, self._max_loaded, BATCH)
        for row in rows:
            self._queues.setdefault(row.chat_id, deque()).append(row)
            self._max_loaded = max(self._max_loaded, row.id)

    def _has_due(self) -> bool:
        now = self.clock.now()
        return any(_next_due(q, now) is not None for q in self._queues.values())

    def _dispatch(self, bot: Bot) -> float:
        """Start lanes for chats whose head is due and whose limits allow; returns how long
        to sleep before looking again."""
        now = self.clock.now()
        mono = self.limiter.monotonic()
        candidates: list[tuple[int, float, int, int, int]] = []
        wait = 1.0
        for chat_id, queue in self._queues.items():
            if not queue or chat_id in self._lane_tasks or chat_id in self.busy_chats:
                continue
            index = _next_due(queue, now)
            if index is None:
                continue
            ready = self.limiter.chat_ready_at(chat_id)
            if ready > mono + self.limiter.spacing * self.lanes:
                wait = min(wait, ready - mono)
                continue
            candidates.append((priority(queue[index].kind), ready, queue[index].id, chat_id,
                               index))
        candidates.sort()
        for _, _, _, chat_id, index in candidates:
            if len(self._lane_tasks) >= self.lanes:
                break
            message = self._queues[chat_id][index]
            del self._queues[chat_id][index]
            self._lane_tasks[chat_id] = asyncio.create_task(
                self._lane(bot, message), name=f"outbox-lane-{chat_id}")
        for chat_id in [c for c, q in self._queues.items() if not q]:
            del self._queues[chat_id]
        return max(wait, 0.005)

    async def _lane(self, bot: Bot, message: OutboxMessage) -> None:
        try:
            await self._deliver(bot, message)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("outbox row %s: unexpected failure; will retry", message.id)
            await asyncio.sleep(self.backoff_base)
            self._queues.setdefault(message.chat_id, deque()).appendleft(message)
        finally:
            self._lane_tasks.pop(message.chat_id, None)
            self._wake.set()

    # ------------------------------------------------------------------ one row

    async def drain_once(self, bot: Bot) -> int:
        """Send what is due now, in order, without the background worker; returns rows."""
        async with self.db.read() as conn:
            batch = await repo.due(conn, self.clock.now(), BATCH)
        for message in batch:
            await self._deliver(bot, message)
        return len(batch)

    async def _deliver(self, bot: Bot, message: OutboxMessage) -> None:
        """Until the row is sent or failed for good; retries wait in this lane, so the
        chat's later messages wait too."""
        failures = 0                      # transient ones in this run (429 never counts)
        parts_sent = int(message.payload.get("_parts_sent", 0))
        try:
            text, markup = await self._content(bot, message)
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("outbox row %s cannot be rendered: %r", message.id, exc)
            async with self.db.tx() as conn:
                await repo.mark_failed(conn, message.id, f"render: {exc!r}")
            return
        while True:
            if not FENCE.acting:
                return              # not the leader any more: the new one sends it
            async with self.db.tx() as conn:
                if not await repo.mark_sending(conn, message.id):
                    return          # finished by another path meanwhile
            try:
                sent_id = await self._send(bot, message, text, markup, parts_sent,
                                           silent=self._silent(message))
            except _PartSent as progress:
                parts_sent = progress.parts_sent
                error: Exception = progress.cause
            except Exception as exc:  # classified below
                error = exc
            else:
                await self._sent(message, sent_id)
                return
            if isinstance(error, NotLeader):
                return              # left `sending`: the new leader sends it (at most again)
            found = classify(error)
            if found.verdict is Verdict.DONE:
                await self._sent(message, None)
                return
            if found.counts_as_attempt:
                failures += 1
            if not await self._handle_error(message, found, failures):
                return

    async def _sent(self, message: OutboxMessage, sent_id: int | None) -> None:
        async with self.db.tx() as conn:
            await repo.mark_sent(conn, message.id, sent_id, self.clock.now())
        self.alarm.recovered()

    async def _handle_error(self, message: OutboxMessage, found: Classified, failures: int
                            ) -> bool:
        """Record the failure; True to try again (after waiting), False when finished."""
        verdict = found.verdict
        if verdict is Verdict.RETRY_AFTER:
            self.limiter.block(message.chat_id, found.retry_after)
            async with self.db.tx() as conn:
                await repo.mark_retry(conn, message.id, self.clock.now(), found.reason)
            return True
        if verdict is Verdict.UNREACHABLE:
            log.info("chat %s blocked the bot; outbox row %s dropped", message.chat_id,
                     message.id)
            async with self.db.tx() as conn:
                await repo.mark_failed(conn, message.id, found.reason)
                if message.chat_id > 0:
                    await people.mark_unreachable(conn, message.chat_id, self.clock.now())
            return False
        if verdict is Verdict.TRANSIENT:
            expiry = expires_at(message.kind, message.payload, message.created_at)
            if self.clock.now() < expiry:
                # Timeouts and 5xx: Telegram may or may not have it; the row stays `sending`.
                async with self.db.tx() as conn:
                    await repo.note_error(conn, message.id, found.reason)
                await self.alarm.transient(found.reason)
                await asyncio.sleep(backoff(failures, self.backoff_base, self.backoff_max))
                return True
            log.warning("outbox row %s (%s) expired after %s failures: %s", message.id,
                        message.kind, failures, found.reason)
            async with self.db.tx() as conn:
                await repo.mark_failed(conn, message.id, f"expired: {found.reason}")
            return False
        log.warning("outbox row %s rejected (%s): %s", message.id, verdict, found.reason)
        async with self.db.tx() as conn:
            await repo.mark_failed(conn, message.id, found.reason)
        if message.kind != ALERT:
            await self.alarm.rejected(message.id, found.reason)
        return False

    async def _content(self, bot: Bot, message: OutboxMessage
                       ) -> tuple[str, ReplyMarkup | None]:
        """The text and keyboard to send: a notice is rendered now, for its reader as they
        are now; a text row is sent as it was queued."""
        payload = message.payload
        if is_notice(payload):
            rendered = await self.notices.render(self.db, message.chat_id, message.ticket_id,
                                                 payload)
            return rendered.text, rendered.reply_markup
        data = payload.get(MARKUP)
        markup: Any = None
        if data:
            markup = _MARKUPS[str(payload.get(MARKUP_KIND, "inline"))].de_json(data, bot)
        return str(payload[TEXT]), markup

    def _silent(self, message: OutboxMessage) -> bool:
        """A notice to a resident sent in quiet hours goes without a sound (never delayed)."""
        if self.quiet is None or not is_notice(message.payload):
            return False
        try:
            notice = NoticeKind(message.payload[PAYLOAD_KEY])
        except ValueError:
            return False
        return notice in RESIDENT_NOTICES and self.quiet.contains(self.clock.now(), self.tz)

    async def _send(self, bot: Bot, message: OutboxMessage, text: str,
                    markup: ReplyMarkup | None, parts_sent: int, *, silent: bool = False
                    ) -> int:
        # its place among everything the bot sends (bot/sender.py): residents, staff, reports
        prio = priority_args(bot, outbox_priority(message.payload, message.kind))
        if message.payload.get(PHOTO):
            return await self._send_photo(bot, message, str(message.payload[PHOTO]), text,
                                          prio)
        source = copy_source(message.payload)
        if source is not None:   # a copy (never a forward) with the text as its caption
            await self.limiter.acquire(message.chat_id)
            try:
                copied = await bot.copy_message(message.chat_id, from_chat_id=source[0],
                                                message_id=source[1], caption=text,
                                                reply_markup=markup,
                                                disable_notification=silent, **prio)
                return copied.message_id
            except BadRequest as exc:   # e.g. the original was deleted: the words still go
                log.warning("outbox row %s not copied (%s); sent as text", message.id, exc)
                sent = await bot.send_message(message.chat_id, text, reply_markup=markup,
                                              disable_notification=silent, **prio)
                return sent.message_id
            finally:
                self.limiter.done(message.chat_id)
        parts = split_text(text)
        sent_id = 0
        for index in range(parts_sent, len(parts)):
            last = index == len(parts) - 1
            await self.limiter.acquire(message.chat_id)
            try:
                sent = await bot.send_message(
                    message.chat_id, parts[index], reply_markup=markup if last else None,
                    disable_notification=True if silent else None, **prio)
            except Exception as exc:
                if index > parts_sent:
                    raise _PartSent(index, exc) from exc
                raise
            finally:
                self.limiter.done(message.chat_id)
            sent_id = sent.message_id
            if not last:
                async with self.db.tx() as conn:
                    await repo.mark_part_sent(conn, message.id, index + 1)
        return sent_id


    async def _send_photo(self, bot: Bot, message: OutboxMessage, path: str, caption: str,
                          prio: dict[str, Any]) -> int:
        """A picture row (e.g. the weekly chart); a missing file fails the row for good."""
        data = await asyncio.to_thread(Path(path).read_bytes)
        await self.limiter.acquire(message.chat_id)
        try:
            sent = await bot.send_photo(message.chat_id, photo=data, caption=caption or None,
                                        filename=Path(path).name, **prio)
        finally:
            self.limiter.done(message.chat_id)
        return sent.message_id


class _PartSent(Exception):
    """Some parts of a long text went out before the error; retry continues after them."""

    def __init__(self, parts_sent: int, cause: Exception) -> None:
        super().__init__(str(cause))
        self.parts_sent = parts_sent
        self.cause = cause


def _next_due(queue: deque[OutboxMessage], now: datetime) -> int | None:
    """Index of the chat's next row to send now: its head when due; a notice held for quiet
    hours lets the rows behind it pass (an urgent escalation never waits behind a reminder
    held for the morning), anything else (a retry) keeps the chat's order."""
    for index, row in enumerate(queue):
        if row.not_before <= now:
            return index
        if not row.payload.get(HELD_KEY):
            return None
    return None
