"""Invites, role administration and group bindings (onboarding of mayors and staff)."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain.models import Role
from storage import dialect
from storage.base import fetch_all, fetch_one, iso, to_model, to_models
from storage.conn import Conn


class Invite(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    role: str
    house_id: int | None = None
    scope_kind: str
    scope_ids: list[int] = []
    created_by: int | None = None
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None


class RoleRow(Role):
    """A role with the holder's display name, for /roles."""

    first_name: str = ""
    username: str | None = None


async def create(conn: Conn, *, code: str, role: str, house_id: int | None,
                 scope_kind: str, scope_ids: list[int], created_by: int | None,
                 now: datetime, expires_at: datetime) -> Invite:
    await conn.execute("""
        INSERT INTO invites(code, role, house_id, scope_kind, scope_ids, created_by, created_at,
                            expires_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (code, role, house_id, scope_kind, json.dumps(scope_ids), created_by, iso(now),
         iso(expires_at)))
    invite = await get(conn, code)
    assert invite is not None
    return invite


async def get(conn: Conn, code: str) -> Invite | None:
    return to_model(Invite, await fetch_one(conn, "SELECT * FROM invites WHERE code = ?",
                                            (code,)))


async def mark_used(conn: Conn, code: str, person_id: int, now: datetime
                    ) -> bool:
    """Check-and-set: only the first of two simultaneous uses wins."""
    cur = await conn.execute("""UPDATE invites SET used_by = ?, used_at = ?
        WHERE code = ? AND used_by IS NULL AND expires_at > ?""",
        (person_id, iso(now), code, iso(now)))
    return cur.rowcount == 1


async def active_roles(conn: Conn) -> list[RoleRow]:
    rows = await fetch_all(conn, """SELECT r.*, p.first_name, p.username FROM roles r
        JOIN people p ON p.id = r.person_id WHERE r.revoked_at IS NULL
        ORDER BY r.role, r.person_id, r.id""")
    return to_models(RoleRow, rows)


async def role(conn: Conn, role_id: int) -> Role | None:
    return to_model(Role, await fetch_one(conn, "SELECT * FROM roles WHERE id = ?", (role_id,)))


async def revoke(conn: Conn, role_id: int, now: datetime) -> bool:
    cur = await conn.execute("""UPDATE roles SET revoked_at = ? WHERE id = ?
                                AND revoked_at IS NULL""", (iso(now), role_id))
    return cur.rowcount == 1


async def has_role(conn: Conn, person_id: int, role: str, house_id: int | None,
                   scope_kind: str, scope_id: int | None) -> bool:
    row = await fetch_one(conn, f"""SELECT 1 FROM roles WHERE person_id = ? AND role = ?
        AND {dialect.same(conn, "house_id", "?")} AND scope_kind = ?
        AND {dialect.same(conn, "scope_id", "?")} AND revoked_at IS NULL""",
        (person_id, role, house_id, scope_kind, scope_id))
    return row is not None


async def city_id(conn: Conn, code: str) -> int | None:
    row = await fetch_one(conn, "SELECT id FROM cities WHERE code = ?", (code.lower(),))
    return None if row is None else int(row[0])


async def province_id(conn: Conn, code: str) -> int | None:
    row = await fetch_one(conn, "SELECT id FROM provinces WHERE code = ?", (code.lower(),))
    return None if row is None else int(row[0])


async def area_name(conn: Conn, kind: str, scope_id: int | None
                    ) -> tuple[str, str] | None:
    """(Persian, English) name of a role's area; None for everywhere."""
    table = {"neighbourhood": "neighbourhoods", "city": "cities", "province": "provinces"}
    if kind not in table or scope_id is None:
        return None
    row = await fetch_one(conn, f"SELECT name_fa, name_en FROM {table[kind]} WHERE id = ?",
                          (scope_id,))
    return ("?", "?") if row is None else (str(row[0]), str(row[1]))
