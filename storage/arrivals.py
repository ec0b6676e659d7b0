"""An update's arrival in one statement: claim its id (dedupe) and read who sent it.

Every update runs this first, so it is one round trip to the database: the claim's
`RETURNING` carries the sender's row and active roles (as JSON, read in the same
statement), or nothing at all when the id was claimed before. The caller writes the
person's row only when it is missing or out of date (`storage.people.arrive`).
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.domain.models import Person, Role
from storage import dialect
from storage.base import iso
from storage.conn import Conn


def _claim_sql(conn: Conn) -> str:
    """The claim for this connection's engine (made once per engine): the JSON of the
    sender's row and of their active roles comes from `storage.dialect`."""
    engine = dialect.name(conn)
    sql = _CLAIMS.get(engine)
    if sql is None:
        person = dialect.json_object_of_row(
            conn, [(name, f"x.{name}") for name in Person.model_fields], "people x WHERE x.id = ?")
        roles = dialect.json_array_of_rows(
            conn, [(name, f"x.{name}") for name in Role.model_fields],
            "roles x WHERE x.person_id = ? AND x.revoked_at IS NULL", "x.id")
        sql = _CLAIMS[engine] = f"""
    INSERT INTO processed_updates(update_id, at) VALUES (?, ?)
    ON CONFLICT(update_id) DO NOTHING
    RETURNING {person} AS person_json, {roles} AS active_roles_json"""
    return sql


_CLAIMS: dict[str, str] = {}


class Arrived:
    """A claimed update: its sender's stored row (None: not stored yet) and active roles."""

    __slots__ = ("person", "roles")

    def __init__(self, person: Person | None, roles: list[Role]) -> None:
        self.person = person
        self.roles = roles


async def claim(conn: Conn, update_id: int, person_id: int | None, now: datetime
                ) -> Arrived | None:
    """None when the update id was claimed before (a repeat); else the claim is made (it
    commits with the statement outside a transaction) and the sender's row and active
    roles come back, as they are in the database (`person_id` None: no sender)."""
    rows = list(await conn.execute_fetchall(_claim_sql(conn), (update_id, iso(now), person_id,
                                                     person_id)))
    if not rows:
        return None
    person_json, roles_json = rows[0][0], rows[0][1]
    person = None if person_json is None else Person.model_validate_json(person_json)
    roles = [Role.model_validate(r) for r in json.loads(roles_json or "[]")]
    return Arrived(person, roles)
