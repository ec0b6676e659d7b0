"""Group chats bound to a house for an area (staff teams that answer together)."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.base import fetch_all, iso


async def bind(conn: aiosqlite.Connection, chat_id: int, house_id: int, *, scope_kind: str,
               scope_id: int | None, bound_by: int, now: datetime) -> bool:
    """Bind a group to a house for an area; False when that exact binding already exists."""
    cur = await conn.execute("""
        INSERT OR IGNORE INTO group_bindings(chat_id, house_id, scope_kind, scope_id,
                                             bound_by, created_at)
        VALUES (?, ?, ?, ?, ?, ?)""",
        (chat_id, house_id, scope_kind, scope_id, bound_by, iso(now)))
    return cur.rowcount == 1


async def houses_of(conn: aiosqlite.Connection, chat_id: int) -> list[int]:
    """Houses a group is bound to."""
    rows = await fetch_all(conn, """SELECT DISTINCT house_id FROM group_bindings
                                    WHERE chat_id = ? ORDER BY house_id""", (chat_id,))
    return [int(r[0]) for r in rows]
