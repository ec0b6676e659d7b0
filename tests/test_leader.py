"""Leadership on PostgreSQL (bot/ops/leader.py) against a real server (tests/pg_server.py):
the advisory lock on a dedicated connection, the lease, the standby's takeover and the
fence a lost leadership closes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from bot.fence import Fence, NotLeader
from bot.ops.leader import Leadership
from storage import leader_lease as repo

FAILOVER = 3.0


@pytest.fixture
async def admin(pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(pg_url)
    try:
        yield conn
    finally:
        await conn.close()


def claim(url: str, name: str) -> Leadership:
    return Leadership(url, FAILOVER, fence=Fence(), poll_seconds=0.2, holder=name)


async def _leads_within(leadership: Leadership, seconds: float) -> bool:
    try:
        await asyncio.wait_for(leadership.acquire(), seconds)
    except TimeoutError:
        return False
    return True


async def test_one_leader_the_standby_takes_over_when_it_stops(pg_url: str,
                                                               admin: asyncpg.Connection
                                                               ) -> None:
    first, second = claim(pg_url, "a"), claim(pg_url, "b")
    assert await _leads_within(first, 5)
    leader = await repo.current_leader(admin)
    assert leader is not None and leader.holder == "a" and leader.age < 1
    assert not await _leads_within(second, 1.0)          # a standby while "a" leads
    await first.release()
    started = time.monotonic()
    assert await _leads_within(second, 3)
    assert time.monotonic() - started < 1.0
    lease = await repo.current_leader(admin)
    assert lease is not None and lease.holder == "b"
    await second.release()
    assert await repo.current_leader(admin) is None


async def test_cut_lock_connection_fences_at_once(pg_url: str, admin: asyncpg.Connection
                                                  ) -> None:
    leader = claim(pg_url, "a")
    assert await _leads_within(leader, 5)
    keeping = asyncio.create_task(leader.keep())
    await asyncio.sleep(0.1)
    lease = await repo.current_leader(admin)
    assert lease is not None
    cut = time.monotonic()
    await admin.execute("SELECT pg_terminate_backend($1)", lease.backend_pid)
    reason = await asyncio.wait_for(keeping, 5)
    print(f"\nlock connection cut -> fenced in {time.monotonic() - cut:.3f} s ({reason})")
    assert "closed" in reason
    assert not leader.fence.acting
    with pytest.raises(NotLeader):
        leader.fence.check()


async def test_vanished_leader_is_replaced_after_its_lease(pg_url: str,
                                                           admin: asyncpg.Connection) -> None:
    """The leader's machine vanished: its connection stays open (TCP has not noticed) but
    no heartbeat comes; the standby ends that connection once the lease expired."""
    frozen = claim(pg_url, "a")
    assert await _leads_within(frozen, 5)              # ...and never renews
    standby = claim(pg_url, "b")
    started = time.monotonic()
    assert await _leads_within(standby, FAILOVER + 2)
    took = time.monotonic() - started
    print(f"\nvanished leader replaced in {took:.2f} s (FAILOVER_SECONDS={FAILOVER})")
    assert took <= FAILOVER
    lease = await repo.current_leader(admin)
    assert lease is not None and lease.holder == "b"
    # The old one finds out at its next heartbeat (its connection was ended).
    assert await asyncio.wait_for(frozen.keep(), 5)
    assert not frozen.fence.acting
    await standby.release()


async def test_heartbeat_renews_and_a_taken_lease_is_lost(pg_url: str,
                                                          admin: asyncpg.Connection) -> None:
    leader = claim(pg_url, "a")
    assert await _leads_within(leader, 5)
    keeping = asyncio.create_task(leader.keep())
    await asyncio.sleep(FAILOVER)                       # three renewals, lease still fresh
    lease = await repo.current_leader(admin)
    assert lease is not None and lease.holder == "a" and lease.age < FAILOVER / 3 + 0.5
    assert not keeping.done()
    await admin.execute("UPDATE leader_lease SET holder = 'someone else'")
    reason = await asyncio.wait_for(keeping, FAILOVER)
    assert "taken over" in reason and not leader.fence.acting
    await leader.release()


async def test_database_gone_then_back_standby_keeps_trying(pg_url: str) -> None:
    standby = Leadership(pg_url.replace(pg_url.rsplit(":", 1)[1].split("/")[0], "1"),
                         FAILOVER, fence=Fence(), poll_seconds=0.1)
    assert not await _leads_within(standby, 0.5)       # port 1: nothing answers, no crash


async def test_check_names_the_leader(pg_url: str) -> None:
    from bot.ops.leader import describe_leader

    assert await describe_leader(pg_url) == (
        True, "leader: no leader (no bot process holds the leadership)")
    leader = claim(pg_url, "a")
    assert await _leads_within(leader, 5)
    ok, line = await describe_leader(pg_url)
    assert ok and line.startswith("leader: ") and f"pid {os.getpid()}" in line
    assert "renewed 0." in line and "(valid)" in line
    await leader.release()
    assert "no leader" in (await describe_leader(pg_url))[1]


async def test_a_transaction_left_idle_is_ended_by_the_server(pg_url: str) -> None:
    """A leader frozen in the middle of a transaction does not keep its row locks."""
    from storage.backends import database_for

    db = database_for(pg_url)
    await db.open()
    try:
        async with db.autocommit() as conn:
            await repo.limit_idle_transactions(conn, 1.0)
        raw = db.conn.raw  # type: ignore[attr-defined]
        await raw.execute("BEGIN")
        await raw.execute("UPDATE outbox SET attempts = attempts WHERE id = -1")
        await asyncio.sleep(2.0)                       # frozen, idle in the transaction
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, ConnectionError)):
            await raw.execute("COMMIT")
    finally:
        with contextlib.suppress(Exception):
            await db.close()
