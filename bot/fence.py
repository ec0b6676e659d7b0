"""Whether this process may act (poll, send, sweep): the fence a lost leadership closes.

On SQLite the process is always the leader (the single-instance lock, `bot/ops/lock.py`).
On PostgreSQL `bot/ops/leader.py` opens the fence when it holds the leadership and closes it
the moment it loses it; from then on every Bot API call is refused (`bot/sender.py`), the
outbox worker sends nothing more (`bot/outbox.py`), the SLA jobs do nothing (`bot/sla.py`),
and the process exits. Closed is final for the process: a service manager restarts it as
a standby.
"""

from __future__ import annotations

import threading
import time


class NotLeader(RuntimeError):
    """This process lost the leadership: it must not talk to Telegram any more."""


class Fence:
    def __init__(self) -> None:
        self._closed = threading.Event()     # set from the leadership thread, read anywhere
        self.reason = ""
        self._until: float | None = None     # monotonic end of the lease (None: no lease)

    @property
    def acting(self) -> bool:
        """Not closed, and the lease (if any) not run out by this machine's clock: a leader
        frozen past its lease (a stopped VM, SIGSTOP) sends nothing when it wakes up, even
        before its leadership thread notices that a standby took over."""
        if self._closed.is_set():
            return False
        return self._until is None or time.monotonic() < self._until

    def lease_until(self, until: float) -> None:
        """The leadership renewed its lease: acting until `until` (time.monotonic())."""
        self._until = until

    def close(self, reason: str) -> None:
        if not self._closed.is_set():
            self.reason = reason
            self._closed.set()

    def check(self) -> None:
        if not self.acting:
            raise NotLeader(f"not the leader any more ({self.reason or 'lease ran out'})")

    def reset(self) -> None:
        """Tests only: a fresh process."""
        self._closed.clear()
        self.reason = ""
        self._until = None


FENCE = Fence()
"""The process's one fence."""
