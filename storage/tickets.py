"""Tickets, their events (history) and attachments."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.models import Attachment, Ticket, TicketEvent
from bot.domain.tickets import OPEN_STATUSES, Kind, Status
from storage.base import fetch_all, fetch_one, fetch_value, iso, row_dict, to_model, to_models
from storage.conn import Conn

_OPEN = tuple(s.value for s in OPEN_STATUSES)
_OPEN_SQL = "(" + ",".join("?" * len(_OPEN)) + ")"

# Columns a service may change through `update`; anything else is a programming error.
_UPDATABLE = frozenset({
    "house_id", "category_id", "status", "close_reason", "duplicate_of", "assignee_id",
    "updated_at", "window_started_at", "window_no", "due_at", "paused_at",
    "first_response_at", "sla_next_at", "closed_at", "rating", "rating_comment",
    "reopen_count", "phone", "lat", "lon", "text", "sla_clock", "window_hours", "urgent",
    "urgent_reason",
})


async def insert(conn: Conn, *, code: str, resident_id: int,
                 neighbourhood_id: int, kind: Kind, category_id: int, house_id: int,
                 text: str, phone: str | None, lat: float | None, lon: float | None,
                 now: datetime, due_at: datetime, sla_next_at: datetime | None,
                 sla_clock: str = "calendar", window_hours: int | None = None,
                 urgent: bool = False, urgent_reason: str | None = None) -> Ticket:
    row = await fetch_one(conn, """
        INSERT INTO tickets(code, resident_id, neighbourhood_id, kind, category_id, house_id,
            text, phone, lat, lon, status, created_at, updated_at, window_started_at, due_at,
            sla_next_at, sla_clock, window_hours, urgent, urgent_reason)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        RETURNING *""",
        (code, resident_id, neighbourhood_id, kind.value, category_id, house_id, text, phone,
         lat, lon, Status.NEW.value, iso(now), iso(now), iso(now), iso(due_at),
         iso(sla_next_at), sla_clock, window_hours, int(urgent), urgent_reason))
    ticket = to_model(Ticket, row)
    assert ticket is not None
    return ticket


async def get(conn: Conn, ticket_id: int) -> Ticket | None:
    return to_model(Ticket, await fetch_one(conn, "SELECT * FROM tickets WHERE id = ?",
                                            (ticket_id,)))


async def by_code(conn: Conn, code: str) -> Ticket | None:
    return to_model(Ticket, await fetch_one(conn, "SELECT * FROM tickets WHERE code = ?",
                                            (code,)))


async def code_exists(conn: Conn, code: str) -> bool:
    return await fetch_value(conn, "SELECT 1 FROM tickets WHERE code = ?", (code,)) is not None


async def update(conn: Conn, ticket_id: int, *, current: Ticket | None = None,
                 **fields: Any) -> Ticket:
    """Change columns and return the new row. With `current` (the row as read in this same
    transaction) the new row is derived from the stored values instead of read back: one
    round trip less for batch jobs such as the SLA sweep."""
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values = [iso(v) if isinstance(v, datetime) else getattr(v, "value", v)
              for v in fields.values()]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await conn.execute(f"UPDATE tickets SET {assignments} WHERE id = ?", (*values, ticket_id))
    if current is not None:
        assert current.id == ticket_id
        stored = dict(zip(fields, values, strict=True))
        return Ticket.model_validate({**current.model_dump(), **stored})
    ticket = await get(conn, ticket_id)
    assert ticket is not None
    return ticket


async def add_event(conn: Conn, *, ticket_id: int, at: datetime,
                    actor_id: int | None, actor_role: str, action: str, public: bool,
                    body: str | None = None, details: dict[str, Any] | None = None) -> int:
    return int(await fetch_value(conn, """
        INSERT INTO ticket_events(ticket_id, at, actor_id, actor_role, action, public, body,
                                  details)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        (ticket_id, iso(at), actor_id, actor_role, action, int(public), body,
         json.dumps(details or {}, ensure_ascii=False))))


async def events(conn: Conn, ticket_id: int, *, public_only: bool
                 ) -> list[TicketEvent]:
    sql = "SELECT * FROM ticket_events WHERE ticket_id = ?"
    if public_only:
        sql += " AND public = 1"
    return to_models(TicketEvent, await fetch_all(conn, sql + " ORDER BY id", (ticket_id,)))


async def add_attachment(conn: Conn, *, ticket_id: int, event_id: int | None,
                         kind: str, file_id: str, file_unique_id: str | None,
                         caption: str | None, now: datetime) -> int:
    return int(await fetch_value(conn, """
        INSERT INTO ticket_attachments(ticket_id, event_id, kind, file_id, file_unique_id,
                                       caption, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        (ticket_id, event_id, kind, file_id, file_unique_id, caption, iso(now))))


async def attachments(conn: Conn, ticket_id: int) -> list[Attachment]:
    rows = await fetch_all(conn, "SELECT * FROM ticket_attachments WHERE ticket_id = ? "
                                 "ORDER BY id", (ticket_id,))
    return to_models(Attachment, rows)


async def attachment_count(conn: Conn, ticket_id: int) -> int:
    return int(await fetch_value(conn, "SELECT count(*) FROM ticket_attachments "
                                       "WHERE ticket_id = ?", (ticket_id,)) or 0)


async def by_resident(conn: Conn, resident_id: int, *, limit: int,
                      offset: int = 0) -> list[Ticket]:
    rows = await fetch_all(conn, """SELECT * FROM tickets WHERE resident_id = ?
        ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?""", (resident_id, limit, offset))
    return to_models(Ticket, rows)


async def count_by_resident(conn: Conn, resident_id: int, *,
                            open_only: bool = False) -> int:
    sql = "SELECT count(*) FROM tickets WHERE resident_id = ?"
    params: list[Any] = [resident_id]
    if open_only:   # the open-requests limit: not those filed for others at a field visit
        sql += f""" AND status IN {_OPEN_SQL} AND id NOT IN (SELECT ticket_id FROM
            visit_requests WHERE filer_id = ? AND claimed_by IS NULL)"""
        params.extend([*_OPEN, resident_id])
    return int(await fetch_value(conn, sql, params) or 0)


async def open_by_resident_category(conn: Conn, resident_id: int,
                                    category_id: int) -> list[Ticket]:
    rows = await fetch_all(conn, f"""SELECT * FROM tickets WHERE resident_id = ?
        AND category_id = ? AND status IN {_OPEN_SQL} ORDER BY id DESC""",
        (resident_id, category_id, *_OPEN))
    return to_models(Ticket, rows)


async def filed_by_key(conn: Conn, idem_key: str) -> Ticket | None:
    """The ticket a draft already became (see services.tickets.file_ticket), if any."""
    value = await fetch_value(conn, "SELECT value FROM kv WHERE key = ?", (f"filed:{idem_key}",))
    return None if value is None else await get(conn, int(value))


async def remember_filed(conn: Conn, idem_key: str, ticket_id: int) -> None:
    """Inside the filing transaction: a second confirm of the same draft finds this ticket."""
    await conn.execute("INSERT INTO kv(key, value) VALUES (?, ?)",
                       (f"filed:{idem_key}", str(ticket_id)))


async def handled_by(conn: Conn, actor_id: int, actions: list[str], *,
                     since: datetime, limit: int) -> list[tuple[Ticket, TicketEvent]]:
    """The newest events of these kinds this person did since `since`, with their tickets
    (a mayor's inbox: what they already routed or closed)."""
    marks = ",".join("?" * len(actions))
    rows = await fetch_all(conn, f"""
        SELECT e.id AS e_id, e.ticket_id AS e_ticket_id, e.at AS e_at, e.actor_id AS e_actor_id,
               e.actor_role AS e_actor_role, e.action AS e_action, e.public AS e_public,
               e.body AS e_body, e.details AS e_details, t.*
        FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
        WHERE e.actor_id = ? AND e.action IN ({marks}) AND e.at >= ?
        ORDER BY e.id DESC LIMIT ?""", (actor_id, *actions, iso(since), limit))
    found = []
    for row in rows:
        values = row_dict(row)
        event = TicketEvent.model_validate(row_dict({k[2:]: v for k, v in values.items()
                                                     if k.startswith("e_")}))
        ticket = Ticket.model_validate({k: v for k, v in values.items()
                                        if not k.startswith("e_")})
        found.append((ticket, event))
    return found
