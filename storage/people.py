"""People (everyone who writes to the bot) and their roles."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from bot.domain.models import Person, Role
from storage import dialect
from storage.base import fetch_all, fetch_one, fetch_value, iso, row_dict, to_model, to_models
from storage.conn import Conn


def _changed(conn: Conn) -> str:
    """The stored person differs from the arriving one (name, username) or was unreachable."""
    return " OR ".join((dialect.differs(conn, "people.first_name", "excluded.first_name"),
                        dialect.differs(conn, "people.username", "excluded.username"),
                        "people.unreachable_at IS NOT NULL"))


async def upsert(conn: Conn, person_id: int, first_name: str,
                 username: str | None, now: datetime) -> Person:
    """Record the person on every update; keeps the display name fresh."""
    await conn.execute(f"""
        INSERT INTO people(id, first_name, username, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET first_name=excluded.first_name,
            username=excluded.username, updated_at=excluded.updated_at,
            unreachable_at=NULL
        WHERE {_changed(conn)}""",
        (person_id, first_name, username, iso(now), iso(now)))
    person = await get(conn, person_id)
    assert person is not None
    return person


_ROLE_FIELDS = [(c, f"x.{c}") for c in (
    "id", "person_id", "role", "house_id", "scope_kind", "scope_id", "created_at",
    "created_by", "revoked_at")]


async def arrive(conn: Conn, person_id: int, first_name: str,
                 username: str | None, now: datetime) -> tuple[Person, list[Role]]:
    """`upsert` and `active_roles` in one statement (every update runs it): the row comes
    back from RETURNING with the person's active roles read in the same statement, so a
    role granted or revoked a moment ago counts at once. The row is only changed (and
    `updated_at` only moves) when the name or the unreachable mark changed."""
    changed = _changed(conn)
    roles_json = dialect.json_array_of_rows(
        conn, _ROLE_FIELDS,
        "roles x WHERE x.person_id = people.id AND x.revoked_at IS NULL", "x.id")
    row = await fetch_one(conn, f"""
        INSERT INTO people(id, first_name, username, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET first_name=excluded.first_name,
            username=excluded.username, unreachable_at=NULL,
            updated_at=CASE WHEN {changed} THEN excluded.updated_at ELSE people.updated_at END
        RETURNING *, {roles_json} AS active_roles_json""",
        (person_id, first_name, username, iso(now), iso(now)))
    assert row is not None
    data = row_dict(row)
    roles = json.loads(data.pop("active_roles_json") or "[]")
    return Person.model_validate(data), [Role.model_validate(r) for r in roles]


async def get(conn: Conn, person_id: int) -> Person | None:
    return to_model(Person, await fetch_one(conn, "SELECT * FROM people WHERE id = ?",
                                            (person_id,)))


async def get_many(conn: Conn, person_ids: Iterable[int]) -> dict[int, Person]:
    """Several people in one query (batch jobs); missing ids are simply absent."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = await fetch_all(conn, "SELECT * FROM people WHERE id IN ("
                           + ",".join("?" * len(ids)) + ")", ids)
    return {p.id: p for p in to_models(Person, rows)}


async def set_locale(conn: Conn, person_id: int, locale: str | None,
                     now: datetime) -> None:
    await conn.execute("UPDATE people SET locale = ?, updated_at = ? WHERE id = ?",
                       (locale, iso(now), person_id))


async def set_neighbourhood(conn: Conn, person_id: int,
                            neighbourhood_id: int | None, now: datetime) -> None:
    await conn.execute("UPDATE people SET neighbourhood_id = ?, updated_at = ? WHERE id = ?",
                       (neighbourhood_id, iso(now), person_id))


async def set_consent(conn: Conn, person_id: int, now: datetime) -> None:
    await conn.execute("UPDATE people SET consent_at = ?, updated_at = ? WHERE id = ?",
                       (iso(now), iso(now), person_id))


async def mark_unreachable(conn: Conn, person_id: int, now: datetime) -> None:
    await conn.execute("UPDATE people SET unreachable_at = ? WHERE id = ?",
                       (iso(now), person_id))


async def active_roles(conn: Conn, person_id: int) -> list[Role]:
    rows = await fetch_all(conn, """SELECT * FROM roles WHERE person_id = ?
                                    AND revoked_at IS NULL ORDER BY id""", (person_id,))
    return to_models(Role, rows)


async def add_role(conn: Conn, person_id: int, role: str, *,
                   house_id: int | None, scope_kind: str, scope_id: int | None,
                   created_by: int | None, now: datetime) -> int:
    return int(await fetch_value(conn, """
        INSERT INTO roles(person_id, role, house_id, scope_kind, scope_id, created_at, created_by)
        VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        (person_id, role, house_id, scope_kind, scope_id, iso(now), created_by)))


async def ensure_person(conn: Conn, person_id: int, now: datetime,
                        first_name: str = "") -> None:
    """Make sure a row exists (e.g. an admin id from config who never wrote yet)."""
    await conn.execute("""INSERT INTO people(id, first_name, created_at, updated_at)
                          VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                       (person_id, first_name, iso(now), iso(now)))


async def unreachable_since(conn: Conn, person_id: int) -> datetime | None:
    """When Telegram said this person blocked the bot (cleared when they write again)."""
    row = await fetch_one(conn, "SELECT unreachable_at FROM people WHERE id = ?", (person_id,))
    return None if row is None or row[0] is None else datetime.fromisoformat(str(row[0]))


async def is_unreachable(conn: Conn, person_id: int) -> bool:
    """For the staff card: "⚠️ resident unreachable"."""
    return await unreachable_since(conn, person_id) is not None


async def ids_between(conn: Conn, low: int, high: int) -> list[int]:
    """Ids of known people in [low, high] (the sandbox's residents, re-created on restart)."""
    rows = await fetch_all(conn, "SELECT id FROM people WHERE id BETWEEN ? AND ? ORDER BY id",
                           (low, high))
    return [int(r[0]) for r in rows]
