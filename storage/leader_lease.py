"""The leadership's SQL (PostgreSQL only): the advisory lock and the lease row.

Everything here but `limit_idle_transactions` runs on the leader's (or standby's) DEDICATED
asyncpg connection, never a pooled one: the advisory lock is a session lock, held as long
as that connection lives.
Times are the server's clock (`clock_timestamp()`), so no two machines' clocks are compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The advisory lock's key (two int4: pg_locks shows them as classid and objid, objsubid 2).
LOCK_KEY = (0x4D48_4C59, 0x4C454144)       # "MHLY", "LEAD"

Raw = Any      # asyncpg.Connection (kept out of the signatures: storage has no asyncpg types)


@dataclass(frozen=True)
class Lease:
    holder: str
    host: str
    pid: int
    backend_pid: int
    age: float                      # seconds since renewed (server clock)
    expired: bool
    renewed_at: datetime


@dataclass(frozen=True)
class LockState:
    """Who holds the lock now (None: nobody) and the lease row as it is."""

    holder_pid: int | None
    lease: Lease | None


_LEASE_COLUMNS = """holder, host, pid, backend_pid, renewed_at,
    EXTRACT(EPOCH FROM clock_timestamp() - renewed_at)::float8 AS age,
    expires_at < clock_timestamp() AS expired"""


def _lease(row: Any) -> Lease | None:
    if row is None or row["holder"] is None:
        return None
    return Lease(holder=row["holder"], host=row["host"], pid=int(row["pid"]),
                 backend_pid=int(row["backend_pid"]), age=max(0.0, float(row["age"])),
                 expired=bool(row["expired"]), renewed_at=row["renewed_at"])


async def try_lock(conn: Raw) -> bool:
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1::int4, $2::int4)",
                                    *LOCK_KEY))


async def take_lease(conn: Raw, holder: str, host: str, pid: int, seconds: float) -> None:
    """Called right after taking the lock: the lease is ours, from now for `seconds`."""
    await conn.execute("""
        INSERT INTO leader_lease(id, holder, host, pid, backend_pid, acquired_at, renewed_at,
                                 expires_at)
        VALUES (1, $1, $2, $3, pg_backend_pid(), clock_timestamp(), clock_timestamp(),
                clock_timestamp() + make_interval(secs => $4))
        ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, host = EXCLUDED.host,
            pid = EXCLUDED.pid, backend_pid = EXCLUDED.backend_pid,
            acquired_at = EXCLUDED.acquired_at, renewed_at = EXCLUDED.renewed_at,
            expires_at = EXCLUDED.expires_at""", holder, host, pid, float(seconds))


async def renew(conn: Raw, holder: str, seconds: float) -> bool:
    """Extend our lease; False when the row is not ours any more (taken over)."""
    value: Any = await conn.fetchval("""
        UPDATE leader_lease SET renewed_at = clock_timestamp(),
            expires_at = clock_timestamp() + make_interval(secs => $2)
        WHERE id = 1 AND holder = $1 AND backend_pid = pg_backend_pid()
        RETURNING 1""", holder, float(seconds))
    return bool(value == 1)


async def lock_state(conn: Raw) -> LockState:
    """The lock's holder (a server process id, from pg_locks) and the lease row."""
    row = await conn.fetchrow(f"""
        SELECT (SELECT l.pid FROM pg_locks l
                WHERE l.locktype = 'advisory' AND l.granted
                  AND l.database = (SELECT oid FROM pg_database
                                    WHERE datname = current_database())
                  AND l.classid = $1::int4::oid AND l.objid = $2::int4::oid
                  AND l.objsubid = 2
                LIMIT 1) AS holder_pid,
               lease.*
        FROM (SELECT 1) AS one
        LEFT JOIN (SELECT {_LEASE_COLUMNS} FROM leader_lease WHERE id = 1) AS lease ON true
        """, *LOCK_KEY)
    holder_pid = row["holder_pid"]
    return LockState(holder_pid=None if holder_pid is None else int(holder_pid),
                     lease=_lease(row))


async def current_leader(conn: Raw) -> Lease | None:
    """The lease of the process holding the lock now; None when nobody leads."""
    state = await lock_state(conn)
    if state.holder_pid is None or state.lease is None:
        return None
    if state.lease.backend_pid != state.holder_pid:
        return None
    return state.lease


async def terminate(conn: Raw, backend_pid: int) -> bool:
    """End the old leader's lock connection: the server releases its lock."""
    return bool(await conn.fetchval("SELECT pg_terminate_backend($1)", backend_pid))


async def limit_idle_transactions(conn: Any, seconds: float) -> None:
    """On the bot's own (pooled or shared) connection, not the lock's: a transaction left
    idle this long is ended by the server. A leader whose machine froze in the middle of
    one would otherwise keep its row locks, and the new leader would wait for them until
    TCP noticed; the bot's transactions take milliseconds."""
    await conn.execute("SELECT set_config('idle_in_transaction_session_timeout', ?, false)",
                       (str(int(seconds * 1000)),))
