"""Only the leader works (PostgreSQL): an advisory lock on a dedicated connection, and a lease.

Telegram lets one process poll a bot (a second getUpdates gets 409), so the shape is
active/standby. Every `python -m bot` on a PostgreSQL DATABASE_URL first runs `acquire`:

- the leader holds `pg_try_advisory_lock` on a connection of its own (not pooled: returning a
  connection to a pool would release the lock) and a lease row (`leader_lease`) it renews
  every FAILOVER_SECONDS/3; the lease lasts 2/3 of FAILOVER_SECONDS, by the server's clock;
- a standby polls every second: it takes the lock when it is free (the leader's process
  died: the server dropped its connection); when the lock is held but the lease expired
  (the leader's machine vanished and TCP has not noticed), it ends the holder's lock
  connection (`pg_terminate_backend`) and takes the lock: a failover within
  FAILOVER_SECONDS;
- a leader that loses its lock connection (the termination listener), fails a heartbeat or
  finds its lease taken over closes the fence at once (`bot/fence.py`: no more polling,
  sending, sweeping) and `on_lost` ends the process (bot/ops/runtime.py), which a service
  manager starts again as a standby.

The lock and its heartbeat run in a thread with an event loop of their own, so PTB's loop
(built later, by run_polling) never owns the lock connection, and a busy bot never delays
a heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import asyncpg

from bot.fence import FENCE, Fence
from storage import leader_lease as repo

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
CONNECT_TIMEOUT = 5.0


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Leadership:
    """One process's claim on the leadership."""

    def __init__(self, dsn: str, failover_seconds: float, *, fence: Fence = FENCE,
                 poll_seconds: float = POLL_SECONDS, holder: str | None = None) -> None:
        self.dsn = dsn
        self.failover_seconds = failover_seconds
        self.lease_seconds = failover_seconds * 2 / 3
        self.renew_seconds = failover_seconds / 3
        self.poll_seconds = poll_seconds
        self.fence = fence
        self.holder = holder or holder_id()
        self.host = socket.gethostname()
        self._conn: Any = None                   # asyncpg.Connection, ours alone
        self._renewed = 0.0                       # monotonic: when the last good renewal began
        self._lost = asyncio.Event()
        self.lost_reason = ""
        self.leading = False

    # ---------------------------------------------------------------- standby

    async def acquire(self) -> None:
        """Return once this process leads (waits as a standby meanwhile)."""
        unheld_since: dict[int, float] = {}      # lock holder -> first seen without a lease
        said_standby = said_unreachable = False
        while True:
            try:
                conn = await self._connection()
                started = time.monotonic()
                if await repo.try_lock(conn):
                    await repo.take_lease(conn, self.holder, self.host, os.getpid(),
                                          self.lease_seconds)
                    self._renewed = started
                    self.fence.lease_until(started + self.lease_seconds)
                    self._lost = asyncio.Event()
                    conn.add_termination_listener(self._terminated)
                    self.leading = True
                    log.info("leader now (%s, lock connection %s)", self.holder,
                             conn.get_server_pid())
                    return
                said_unreachable = False
                state = await repo.lock_state(conn)
                if not said_standby and state.lease is not None:
                    log.info("standby: %s (pid %s) leads; waiting for the leadership",
                             state.lease.host, state.lease.pid)
                    said_standby = True
                if state.holder_pid is not None and self._stale(state, unheld_since):
                    log.warning("the leader's lease expired %s; ending its lock connection "
                                "(server pid %s) and taking over",
                                _who(state.lease), state.holder_pid)
                    await repo.terminate(conn, state.holder_pid)
                    await asyncio.sleep(0.05)
                    continue
            except (OSError, TimeoutError, asyncpg.PostgresError,
                    asyncpg.InterfaceError) as exc:
                if not said_unreachable:
                    log.warning("standby: the database does not answer (%r); retrying", exc)
                    said_unreachable = True
                await self._drop_connection()
            await asyncio.sleep(self.poll_seconds)

    def _stale(self, state: repo.LockState, unheld_since: dict[int, float]) -> bool:
        """The holder's lease ran out, or the holder never wrote one in a lease's time."""
        assert state.holder_pid is not None
        lease = state.lease
        if lease is not None and lease.backend_pid == state.holder_pid:
            unheld_since.clear()
            return lease.expired
        first = unheld_since.setdefault(state.holder_pid, time.monotonic())
        return time.monotonic() - first > self.lease_seconds + self.poll_seconds

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(
                self.dsn, timeout=CONNECT_TIMEOUT,
                server_settings={"application_name": "mahalleyar-leader"})
        return self._conn

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                conn.terminate()

    # ---------------------------------------------------------------- leader

    def _terminated(self, _conn: Any) -> None:
        self._lose("the lock connection was closed")

    def _lose(self, reason: str) -> None:
        if not self._lost.is_set():
            self.lost_reason = reason
            self.leading = False
            self.fence.close(reason)      # first of all: nothing more is sent
            self._lost.set()

    async def keep(self) -> str:
        """Renew the lease until the leadership is lost; returns why."""
        while not self._lost.is_set():
            pause = self._renewed + self.renew_seconds - time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), max(pause, 0.0))
            if self._lost.is_set():
                break
            started = time.monotonic()
            remaining = self._renewed + self.lease_seconds - started
            try:
                if remaining <= 0:
                    raise TimeoutError("lease ran out before it could be renewed")
                ours = await asyncio.wait_for(
                    repo.renew(self._conn, self.holder, self.lease_seconds), remaining)
            except Exception as exc:
                self._lose(f"heartbeat failed: {exc!r}")
                break
            if not ours:
                self._lose("the lease was taken over")
                break
            self._renewed = started
            self.fence.lease_until(started + self.lease_seconds)
        return self.lost_reason

    async def release(self) -> None:
        """Give the leadership up (a clean stop): the lock goes with the connection."""
        conn, self._conn = self._conn, None
        self.leading = False
        if conn is not None and not conn.is_closed():
            conn.remove_termination_listener(self._terminated)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2.0)


class LeaderThread:
    """`Leadership` in a thread of its own: `wait()` blocks until this process leads;
    `on_lost(reason)` is called (in that thread) when it stops leading."""

    def __init__(self, leadership: Leadership, on_lost: Callable[[str], None]) -> None:
        self.leadership = leadership
        self.on_lost = on_lost
        self.leading = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._main, name="leadership", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        return self.leading.wait(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        try:
            await self.leadership.acquire()
            self.leading.set()
            reason = await self.leadership.keep()
        except asyncio.CancelledError:
            await self.leadership.release()
            return
        except Exception as exc:          # nothing may leave a leader acting unfenced
            reason = f"leadership failed: {exc!r}"
            self.leadership.fence.close(reason)
        self.on_lost(reason)

    def stop(self) -> None:
        """A clean stop: give the leadership up (the standby takes over at once)."""
        if self._loop is not None and self._task is not None and not self._task.done():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(5.0)


def _who(lease: repo.Lease | None) -> str:
    if lease is None:
        return "(no lease written)"
    return f"({lease.host}, pid {lease.pid}, {lease.age:.1f} s ago)"


async def describe_leader(dsn: str) -> tuple[bool, str]:
    """`python -m bot check`'s line: who leads now (host, pid, lease age) or "no leader"."""
    try:
        conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return False, f"leader: the database does not answer ({type(exc).__name__})"
    try:
        lease = await repo.current_leader(conn)
    except asyncpg.UndefinedTableError:
        return True, "leader: no leader (the database is not migrated yet)"
    finally:
        await conn.close()
    if lease is None:
        return True, "leader: no leader (no bot process holds the leadership)"
    state = "EXPIRED, a standby takes over" if lease.expired else "valid"
    return True, (f"leader: {lease.host}, pid {lease.pid}, lease renewed {lease.age:.1f} s ago "
                  f"({state})")
