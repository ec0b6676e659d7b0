"""SQL for the 72-hour window: the sweep's work list, actions taken, and digest numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.models import Ticket
from storage import dialect
from storage.base import fetch_all, iso, to_models
from storage.conn import Conn


async def due_tickets(conn: Conn, now: datetime, limit: int) -> list[Ticket]:
    """The sweep's whole batch in one query: only tickets whose next SLA moment has come,
    oldest first, through the partial index tickets_sla."""
    rows = await fetch_all(conn, f"""SELECT * FROM tickets{dialect.indexed_by(conn, "tickets_sla")}
        WHERE sla_next_at IS NOT NULL AND sla_next_at <= ?
        ORDER BY sla_next_at, id LIMIT ?""", (iso(now), limit))
    return to_models(Ticket, rows)


async def done_actions_many(conn: Conn, tickets: list[Ticket]
                            ) -> dict[int, dict[str, datetime]]:
    """`done_actions` for a batch in one query: ticket id -> its current window's actions."""
    windows = {t.id: t.window_no for t in tickets}
    if not windows:
        return {}
    rows = await fetch_all(conn, "SELECT ticket_id, window_no, action, at FROM sla_actions "
                           "WHERE ticket_id IN (" + ",".join("?" * len(windows)) + ")",
                           list(windows))
    out: dict[int, dict[str, datetime]] = {ticket_id: {} for ticket_id in windows}
    for r in rows:
        if windows[int(r[0])] == int(r[1]):
            out[int(r[0])][str(r[2])] = datetime.fromisoformat(str(r[3]))
    return out


async def done_actions(conn: Conn, ticket_id: int, window_no: int
                       ) -> dict[str, datetime]:
    rows = await fetch_all(conn, """SELECT action, at FROM sla_actions
        WHERE ticket_id = ? AND window_no = ?""", (ticket_id, window_no))
    return {str(r[0]): datetime.fromisoformat(str(r[1])) for r in rows}


async def record_actions(conn: Conn, actions: list[tuple[int, int, str]],
                         now: datetime) -> None:
    """(ticket, window, action) rows of a sweep batch in one statement. The caller decided
    from `done_actions_many`, read in the same transaction; the primary key still refuses a
    second row for the same window, so an action is recorded exactly once."""
    await conn.executemany("""INSERT INTO sla_actions(ticket_id, window_no, action, at)
        VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING""", [(*row, iso(now)) for row in actions])


async def set_next_check(conn: Conn, ticket_id: int,
                         when: datetime | None) -> None:
    """Only the sweep's bookkeeping column; `updated_at` stays the last real change."""
    await conn.execute("UPDATE tickets SET sla_next_at = ? WHERE id = ?", (iso(when), ticket_id))


# --------------------------------------------------------------------------- daily digest

@dataclass(frozen=True)
class Scope:
    """An area (and optionally one house) someone answers for."""

    scope_kind: str
    scope_id: int | None
    house_id: int | None = None


@dataclass
class DigestStats:
    open: int = 0
    due_soon: int = 0
    overdue: int = 0
    oldest_open: list[str] = field(default_factory=list)
    soonest_due: list[str] = field(default_factory=list)
    oldest_overdue: list[str] = field(default_factory=list)


async def _scope_filter(conn: Conn, scopes: list[Scope]
                        ) -> tuple[str, list[object]]:
    """OR of every scope, each resolved to its neighbourhood ids (uses the indexes)."""
    clauses: list[str] = []
    params: list[object] = []
    for scope in scopes:
        parts: list[str] = []
        if scope.scope_kind != "all":
            if scope.scope_kind == "neighbourhood":
                ids = [scope.scope_id]
            elif scope.scope_kind == "city":
                ids = [int(r[0]) for r in await fetch_all(
                    conn, "SELECT id FROM neighbourhoods WHERE city_id = ?", (scope.scope_id,))]
            else:
                ids = [int(r[0]) for r in await fetch_all(conn, """SELECT n.id
                    FROM neighbourhoods n JOIN cities c ON c.id = n.city_id
                    WHERE c.province_id = ?""", (scope.scope_id,))]
            parts.append("t.neighbourhood_id IN (" + ",".join("?" * len(ids)) + ")"
                         if ids else "1 = 0")
            params.extend(ids)
        if scope.house_id is not None:
            parts.append("t.house_id = ?")
            params.append(scope.house_id)
        clauses.append("(" + (" AND ".join(parts) or "1 = 1") + ")")
    return "(" + " OR ".join(clauses) + ")", params


async def digest(conn: Conn, scopes: list[Scope], now: datetime,
                 soon: datetime, oldest: int = 3) -> DigestStats:
    """Open, due before `soon`, and overdue tickets in the scopes, with the oldest codes."""
    if not scopes:
        return DigestStats()
    where, params = await _scope_filter(conn, scopes)
    base = f"FROM tickets t WHERE t.status <> 'closed' AND {where}"
    running = "t.first_response_at IS NULL AND t.paused_at IS NULL"
    stats = DigestStats()
    rows = await fetch_all(conn, f"""SELECT count(*),
        sum(CASE WHEN {running} AND t.due_at > ? AND t.due_at <= ? THEN 1 ELSE 0 END),
        sum(CASE WHEN {running} AND t.due_at <= ? THEN 1 ELSE 0 END) {base}""",
        [iso(now), iso(soon), iso(now), *params])
    stats.open, stats.due_soon, stats.overdue = (int(v or 0) for v in rows[0])
    stats.oldest_open = [str(r[0]) for r in await fetch_all(
        conn, f"SELECT t.code {base} ORDER BY t.created_at, t.id LIMIT ?", [*params, oldest])]
    stats.soonest_due = [str(r[0]) for r in await fetch_all(
        conn, f"""SELECT t.code {base} AND {running} AND t.due_at > ? AND t.due_at <= ?
        ORDER BY t.due_at, t.id LIMIT ?""", [*params, iso(now), iso(soon), oldest])]
    stats.oldest_overdue = [str(r[0]) for r in await fetch_all(
        conn, f"""SELECT t.code {base} AND {running} AND t.due_at <= ?
        ORDER BY t.due_at, t.id LIMIT ?""", [*params, iso(now), oldest])]
    return stats


async def role_scopes(conn: Conn, role: str) -> dict[int, list[Scope]]:
    """Every active holder of `role` with the areas (and houses) they cover."""
    rows = await fetch_all(conn, """SELECT person_id, scope_kind, scope_id, house_id FROM roles
        WHERE role = ? AND revoked_at IS NULL ORDER BY person_id, id""", (role,))
    out: dict[int, list[Scope]] = {}
    for r in rows:
        out.setdefault(int(r[0]), []).append(
            Scope(str(r[1]), None if r[2] is None else int(r[2]),
                  None if r[3] is None else int(r[3])))
    return out


async def group_scopes(conn: Conn) -> dict[int, list[Scope]]:
    rows = await fetch_all(conn, """SELECT chat_id, scope_kind, scope_id, house_id
        FROM group_bindings ORDER BY chat_id""")
    out: dict[int, list[Scope]] = {}
    for r in rows:
        out.setdefault(int(r[0]), []).append(
            Scope(str(r[1]), None if r[2] is None else int(r[2]), int(r[3])))
    return out
