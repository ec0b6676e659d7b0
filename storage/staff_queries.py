"""Read side of the staff and mayor screens: queue, search, canned replies
(the reports are in `storage.reports`).

Scope is always part of the SQL (`Area` list), so a ticket outside it is never even read.
Queries are written for the indexes of 0001/0003: (house, neighbourhood, status, created_at),
the unique tracking code, the phone index and the trigram search index (`storage.dialect`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.models import Ticket
from bot.domain.tickets import OPEN_STATUSES
from storage import dialect
from storage.base import fetch_all, fetch_one, fetch_value, iso, to_model, to_models
from storage.conn import Conn

OPEN = tuple(sorted(s.value for s in OPEN_STATUSES))


@dataclass(frozen=True)
class Area:
    """A slice of tickets: one house (None = every house) in some neighbourhoods (None = all)."""

    house_id: int | None
    neighbourhood_ids: tuple[int, ...] | None


def _scope_sql(areas: list[Area], params: list[Any], alias: str = "t") -> str:
    parts = []
    for area in areas:
        terms = []
        if area.house_id is not None:
            terms.append(f"{alias}.house_id = ?")
            params.append(area.house_id)
        if area.neighbourhood_ids is not None:
            if not area.neighbourhood_ids:
                continue
            marks = ",".join("?" * len(area.neighbourhood_ids))
            terms.append(f"{alias}.neighbourhood_id IN ({marks})")
            params.extend(area.neighbourhood_ids)
        parts.append("(" + (" AND ".join(terms) or "1 = 1") + ")")
    return "(" + (" OR ".join(parts) or "1 = 0") + ")"


async def neighbourhood_ids(conn: Conn, kind: str, scope_id: int | None
                            ) -> tuple[int, ...] | None:
    """Neighbourhoods of a role's area; None means everywhere."""
    if kind == "all":
        return None
    if kind == "neighbourhood":
        return (int(scope_id),) if scope_id is not None else ()
    if kind == "city":
        rows = await fetch_all(conn, "SELECT id FROM neighbourhoods WHERE city_id = ? "
                                     "ORDER BY id", (scope_id,))
    else:
        rows = await fetch_all(conn, """SELECT n.id FROM neighbourhoods n JOIN cities c
            ON c.id = n.city_id WHERE c.province_id = ? ORDER BY n.id""", (scope_id,))
    return tuple(int(r[0]) for r in rows)


async def ticket_in_scope(conn: Conn, areas: list[Area], *,
                          ticket_id: int | None = None, code: str | None = None
                          ) -> Ticket | None:
    params: list[Any] = []
    where = _scope_sql(areas, params)
    value: object
    key, value = ("t.id = ?", ticket_id) if ticket_id is not None else ("t.code = ?", code)
    row = await fetch_one(conn, f"SELECT t.* FROM tickets t WHERE {key} AND {where}",
                          [value, *params])
    return to_model(Ticket, row)


def _queue_filter(kind: str, me: int, now: datetime, params: list[Any]) -> str:
    if kind == "mine":
        params.append(me)
        return " AND t.assignee_id = ?"
    if kind == "unassigned":
        return " AND t.assignee_id IS NULL"
    if kind == "overdue":
        params.append(iso(now))
        return " AND t.due_at < ? AND t.first_response_at IS NULL AND t.paused_at IS NULL"
    return ""


async def queue(conn: Conn, areas: list[Area], *, kind: str, me: int,
                now: datetime, limit: int, offset: int,
                statuses: tuple[str, ...] = OPEN, untriaged: bool = False
                ) -> tuple[list[Ticket], int]:
    """Open tickets in scope, urgent ones first, then oldest first (the one waiting longest is
    on top), and the total. `untriaged` (a mayor's inbox): without those already re-routed in
    their current window."""
    params: list[Any] = list(statuses)
    sql = (f" FROM tickets t WHERE t.status IN ({','.join('?' * len(statuses))}) AND "
           f"{_scope_sql(areas, params)}{_queue_filter(kind, me, now, params)}")
    if untriaged:
        sql += (" AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id "
                "AND e.action = 'route' AND e.at >= t.window_started_at)")
    total = int(await fetch_value(conn, "SELECT count(*)" + sql, params) or 0)
    rows = await fetch_all(conn, "SELECT t.*" + sql + " ORDER BY t.urgent DESC, t.created_at, "
                           "t.id LIMIT ? OFFSET ?", [*params, limit, offset])
    return to_models(Ticket, rows), total


# A scope this small is cheaper to scan (index on house, neighbourhood, created_at) than to
# filter every full-text hit of the whole database.
SMALL_SCOPE = 4


def _small(areas: list[Area]) -> bool:
    return all(a.house_id is not None and a.neighbourhood_ids is not None for a in areas) \
        and sum(len(a.neighbourhood_ids or ()) for a in areas) <= SMALL_SCOPE


async def search_text(conn: Conn, areas: list[Area], query: str, *,
                      since: datetime, limit: int) -> list[Ticket]:
    """`query` is already normalised. The trigram index (storage.dialect) for 3+ characters
    over a wide scope, else a scan of the (small) scope's recent tickets."""
    params: list[Any] = []
    scope = _scope_sql(areas, params)
    if len(query) >= dialect.MIN_INDEXED and not _small(areas):
        sql, values = dialect.indexed_text_search(conn, scope, query)
        rows = await fetch_all(conn, sql, [*values, *params, iso(since), limit])
    else:
        params += [iso(since), dialect.like_pattern(query), limit]
        rows = await fetch_all(conn, dialect.scoped_text_search(conn, scope), params)
    return to_models(Ticket, rows)


async def search_phone(conn: Conn, areas: list[Area], phones: list[str], *,
                       limit: int) -> list[Ticket]:
    """Exact match on the stored phone in any of its usual spellings (index lookup)."""
    params: list[Any] = list(phones)
    where = f"t.phone IN ({','.join('?' * len(phones))})"
    scope = _scope_sql(areas, params)
    rows = await fetch_all(conn, f"""SELECT t.* FROM tickets t WHERE {where} AND {scope}
        ORDER BY t.id DESC LIMIT ?""", [*params, limit])
    return to_models(Ticket, rows)


@dataclass(frozen=True)
class CannedReply:
    id: int
    house_id: int | None
    title: str
    body: str


async def canned_replies(conn: Conn, house_ids: list[int]) -> list[CannedReply]:
    marks = ",".join("?" * len(house_ids)) or "NULL"
    rows = await fetch_all(conn, f"""SELECT id, house_id, title, body FROM canned_replies
        WHERE house_id IS NULL OR house_id IN ({marks}) ORDER BY id""", house_ids)
    return [CannedReply(int(r[0]), r[1], str(r[2]), str(r[3])) for r in rows]


async def canned_reply(conn: Conn, reply_id: int) -> CannedReply | None:
    r = await fetch_one(conn, "SELECT id, house_id, title, body FROM canned_replies "
                              "WHERE id = ?", (reply_id,))
    return None if r is None else CannedReply(int(r[0]), r[1], str(r[2]), str(r[3]))


async def bulk_insert_tickets(conn: Conn, rows: list[tuple[Any, ...]]) -> None:
    """Bench/import helper: rows in the column order of INSERT below, inside one transaction."""
    await conn.executemany("""INSERT INTO tickets(code, resident_id, neighbourhood_id, kind,
        category_id, house_id, text, phone, status, assignee_id, created_at, updated_at,
        window_started_at, due_at, first_response_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows)
