"""One alert per outage, not one per message: a log line, and a message to the admin chat
queued in the outbox (so it arrives once Telegram is reachable again).

An outage starts with a transient failure (5xx, lost connection, timeout) and lasts while
failures keep coming less than `after` seconds apart (some chats may still get through
meanwhile); it is reported once it has lasted `after` seconds (real time), and the first
successful send after the report is logged. A message Telegram rejects for good (a 4xx
other than 403/429) is logged each time and reported to the admin chat at most once an hour.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.domain.delivery import ALERT
from bot.i18n import translator

if TYPE_CHECKING:
    from bot.outbox_queue import OutboxQueue

log = logging.getLogger(__name__)


class OutageAlarm:
    def __init__(self, queue: OutboxQueue, admin_chat_id: int | None, *, after: float = 60.0,
                 locale: str = "fa", monotonic: Callable[[], float] = time.monotonic) -> None:
        self.queue = queue
        self.admin_chat_id = admin_chat_id
        self.after = after
        self.locale = locale
        self.monotonic = monotonic
        self.since: float | None = None
        self.last_failure = 0.0
        self.alerted = False
        self.down = False                   # reported and not yet seen working again
        self.alerts = 0                     # how many outages were reported (tests, metrics)

    async def transient(self, reason: str) -> None:
        now = self.monotonic()
        if self.since is None or now - self.last_failure > self.after:
            self.since, self.alerted = now, False      # a new outage
        self.last_failure = now
        if self.alerted or now - self.since < self.after:
            return
        self.alerted = self.down = True
        self.alerts += 1
        minutes = max(1, round((now - self.since) / 60))
        log.error("Telegram outage: sends have failed for %s min (%s); messages are kept "
                  "and retried", minutes, reason)
        tr = translator(self.locale)
        await self._tell(f"outage:{self.queue.clock.now().isoformat()}", tr._(
            "⚠️ Telegram could not be reached for {minutes} minutes ({reason}). No message "
            "is lost: they are sent as soon as it answers again.").format(
                minutes=tr.digits(minutes), reason=reason[:200]))

    def recovered(self) -> None:
        if self.down and self.since is not None:
            self.down = False
            log.warning("Telegram reachable again after %.0f s",
                        self.monotonic() - self.since)

    async def rejected(self, row_id: int, reason: str) -> None:
        tr = translator(self.locale)
        hour = self.queue.clock.now().strftime("%Y-%m-%dT%H")
        await self._tell(f"rejected:{hour}", tr._(
            "⚠️ Telegram refused a message (outbox row {row}): {reason}. It was not sent; "
            "further refusals this hour are only logged.").format(row=row_id,
                                                                  reason=reason[:200]))

    async def _tell(self, key: str, text: str) -> None:
        if self.admin_chat_id is None:
            return
        async with self.queue.db.tx() as conn:
            await self.queue.enqueue(conn, chat_id=self.admin_chat_id, key=f"alert:{key}",
                                     kind=ALERT, text=text)
