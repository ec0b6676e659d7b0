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
    """These updates were handled (one statement)."""
    ids = [int(i) for i in update_ids]
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        await conn.execute(f"DELETE FROM inbox WHERE update_id IN ({', '.join('?' * len(part))})",
                           part)


async def prune(conn: Conn, now: datetime, keep: timedelta) -> None:
    """Rows older than `keep` (the dedupe forgets update ids after as long)."""
    await conn.execute("DELETE FROM inbox WHERE received_at < ?", (iso(now - keep),))


async def unclaim_interrupted(conn: Conn) -> int:
    """Kept updates a previous run had started (claimed in `processed_updates`) but not
    finished: drop their claims, so they are handled again (not skipped as repeats)."""
    cur = await conn.execute("""DELETE FROM processed_updates
                                WHERE update_id IN (SELECT update_id FROM inbox)""")
    return max(cur.rowcount, 0)


async def unhandled(conn: Conn) -> list[dict[str, Any]]:
    """Every kept update, oldest first, as the Bot API sent it."""
    rows = await fetch_all(conn, "SELECT body FROM inbox ORDER BY update_id")
    return [json.loads(str(row[0])) for row in rows]


async def count(conn: Conn) -> int:
    rows = await fetch_all(conn, "SELECT count(*) FROM inbox")
    return int(rows[0][0])
