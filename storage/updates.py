"""Processed update ids, so a re-delivered update is handled at most once."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.base import fetch_all, fetch_value, iso
from storage.conn import Conn


async def claim(conn: Conn, update_id: int, now: datetime) -> bool:
    """True the first time an update id is seen, False for a repeat."""
    added = await fetch_all(conn, """INSERT INTO processed_updates(update_id, at) VALUES (?, ?)
        ON CONFLICT DO NOTHING RETURNING update_id""", (update_id, iso(now)))
    return len(added) == 1


async def prune(conn: Conn, now: datetime, keep: timedelta) -> int:
    cur = await conn.execute("DELETE FROM processed_updates WHERE at < ?", (iso(now - keep),))
    return cur.rowcount


async def max_claimed(conn: Conn) -> int:
    """Highest update id ever processed (0 if none): a fresh Bot API server must number above it."""
    return int(await fetch_value(conn, "SELECT max(update_id) FROM processed_updates") or 0)
