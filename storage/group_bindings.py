"""Group chats bound to a house for an area: a staff team that shares one queue."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from storage import dialect
from storage.base import fetch_all, iso, to_models
from storage.conn import Conn


class Binding(BaseModel):
    model_config = ConfigDict(frozen=True)

    chat_id: int
    house_id: int
    scope_kind: str
    scope_id: int | None = None
    bound_by: int
    created_at: datetime


async def bind(conn: Conn, *, chat_id: int, house_id: int, scope_kind: str,
               scope_id: int | None, bound_by: int, now: datetime) -> bool:
    added = await fetch_all(conn, """INSERT INTO group_bindings(chat_id, house_id,
        scope_kind, scope_id, bound_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT DO NOTHING RETURNING chat_id""",
        (chat_id, house_id, scope_kind, scope_id, bound_by, iso(now)))
    return len(added) == 1


async def unbind(conn: Conn, chat_id: int, house_ids: list[int]) -> int:
    if not house_ids:
        return 0
    marks = ",".join("?" * len(house_ids))
    cur = await conn.execute(f"""DELETE FROM group_bindings WHERE chat_id = ?
                                 AND house_id IN ({marks})""", (chat_id, *house_ids))
    return int(cur.rowcount)


async def bindings(conn: Conn, chat_id: int) -> list[Binding]:
    rows = await fetch_all(conn, "SELECT * FROM group_bindings WHERE chat_id = ? ORDER BY "
                                 "house_id, scope_kind, scope_id NULLS FIRST", (chat_id,))
    return to_models(Binding, rows)


async def end_orphaned(conn: Conn) -> list[Binding]:
    """Delete bindings whose binder no longer holds a staff or supervisor role for that
    house and area (revoked since): a group keeps its announcements only while someone
    entitled to them bound it. Returns the bindings ended."""
    rows = await fetch_all(conn, f"""SELECT b.* FROM group_bindings b WHERE NOT EXISTS (
        SELECT 1 FROM roles r WHERE r.person_id = b.bound_by AND r.revoked_at IS NULL
        AND r.role IN ('staff', 'supervisor') AND r.house_id = b.house_id
        AND r.scope_kind = b.scope_kind AND {dialect.same(conn, "r.scope_id", "b.scope_id")})""")
    ended = to_models(Binding, rows)
    for b in ended:
        await conn.execute(f"""DELETE FROM group_bindings WHERE chat_id = ? AND house_id = ?
            AND scope_kind = ? AND {dialect.same(conn, "scope_id", "?")}""",
                           (b.chat_id, b.house_id, b.scope_kind, b.scope_id))
    return ended


async def all_bindings(conn: Conn) -> list[Binding]:
    rows = await fetch_all(conn, "SELECT * FROM group_bindings ORDER BY chat_id, house_id, "
                                 "scope_kind, scope_id NULLS FIRST")
    return to_models(Binding, rows)
