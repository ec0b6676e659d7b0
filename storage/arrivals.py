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
from storage.base import iso
from storage.conn import Conn


def _json_object(model: type[Person] | type[Role], alias: str) -> str:
    """`json_object('id', p.id, ...)` over the model's fields (the table's columns)."""
    return "json_object(" + ", ".join(f"'{name}', {alias}.{name}"
                                     for name in model.model_fields) + ")"


_CLAIM = f"""
    INSERT INTO processed_updates(update_id, at) VALUES (?, ?)
    ON CONFLICT(update_id) DO NOTHING
    RETURNING
        (SELECT {_json_object(Person, "p")} FROM people p WHERE p.id = ?) AS person_json,
        (SELECT json_group_array({_json_object(Role, "r")}) FROM (
            SELECT * FROM roles r WHERE r.person_id = ? AND r.revoked_at IS NULL
            ORDER BY r.id) r) AS active_roles_json"""


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
    rows = list(await conn.execute_fetchall(_CLAIM, (update_id, iso(now), person_id,
                                                     person_id)))
    if not rows:
        return None
    person_json, roles_json = rows[0][0], rows[0][1]
    person = None if person_json is None else Person.model_validate_json(person_json)
    roles = [Role.model_validate(r) for r in json.loads(roles_json or "[]")]
    return Arrived(person, roles)
