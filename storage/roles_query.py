"""Who answers for a neighbourhood: mayors, staff and bound groups of a house in an area."""

from __future__ import annotations

from storage.base import fetch_all
from storage.conn import Conn

# A role or binding covers a neighbourhood when its scope is that neighbourhood, its city,
# its province, or everything.
_COVERS = """
    (scope_kind = 'all'
     OR (scope_kind = 'neighbourhood' AND scope_id = :n)
     OR (scope_kind = 'city' AND scope_id = (SELECT city_id FROM neighbourhoods WHERE id = :n))
     OR (scope_kind = 'province' AND scope_id = (
            SELECT c.province_id FROM neighbourhoods x JOIN cities c ON c.id = x.city_id
            WHERE x.id = :n)))
"""


async def people_with_role(conn: Conn, role: str, neighbourhood_id: int,
                           house_id: int | None = None) -> list[int]:
    sql = f"""SELECT DISTINCT person_id FROM roles WHERE revoked_at IS NULL AND role = :role
              AND {_COVERS}"""
    params: dict[str, object] = {"role": role, "n": neighbourhood_id}
    if house_id is not None:
        sql += " AND house_id = :h"
        params["h"] = house_id
    rows = await fetch_all(conn, sql + " ORDER BY person_id", params)
    return [int(r[0]) for r in rows]


async def bound_groups(conn: Conn, house_id: int, neighbourhood_id: int
                       ) -> list[int]:
    rows = await fetch_all(conn, f"""SELECT DISTINCT chat_id FROM group_bindings
        WHERE house_id = :h AND {_COVERS} ORDER BY chat_id""",
        {"h": house_id, "n": neighbourhood_id})
    return [int(r[0]) for r in rows]
