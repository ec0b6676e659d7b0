"""The inbox: updates fetched from the Bot API, kept until they are handled."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from storage.base import fetch_all, iso
from storage.conn import Conn


async def store(conn: Conn, updates: Iterable[dict[str, Any]], now: datetime) -> None:
    """Keep fetched updates (one row each; an update fetched twice is kept once)."""
    await conn.executemany(
        """INSERT INTO inbox(update_id, body, received_at) VALUES (?, ?, ?)
           ON CONFLICT (update_id) DO NOTHING""",
        [(int(u["update_id"]), json.dumps(u, ensure_ascii=False), iso(now)) for u in updates])


async def forget(conn: Conn, update_ids: Iterable[int]) -> None:
    """These updates were handled."""
    await conn.executemany("DELETE FROM inbox WHERE update_id = ?",
                           [(int(i),) for i in update_ids])


async def prune(conn: Conn, now: datetime, keep: timedelta) -> None:
    """Rows older than `keep` (the dedupe forgets update ids after as long)."""
    await conn.execute("DELETE FROM inbox WHERE received_at < ?", (iso(now - keep),))


async def unhandled(conn: Conn) -> list[dict[str, Any]]:
    """Every kept update, oldest first, as the Bot API sent it."""
    rows = await fetch_all(conn, "SELECT body FROM inbox ORDER BY update_id")
    return [json.loads(str(row[0])) for row in rows]


async def count(conn: Conn) -> int:
    rows = await fetch_all(conn, "SELECT count(*) FROM inbox")
    return int(rows[0][0])
