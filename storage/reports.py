"""Report queries: aggregates computed by SQLite, and the export streamed in chunks.

Nothing here loads ticket rows into Python for `/stats`: every figure is a `count`/`sum`
(and the median a window function) over the scope's slice of the (house, neighbourhood,
created_at) index. The export reads its rows in chunks from a cursor, for a writer that puts
them in a file straight away (`bot.report_worker`, in a process of its own).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.reports import OUTCOMES, Figures, Name
from storage import dialect
from storage.base import fetch_all, iso
from storage.conn import Conn
from storage.db import read_only_uri
from storage.staff_queries import Area
from storage.staff_queries import _scope_sql as scope_sql

EXPORT_CHUNK = 2_000


def _period(areas: list[Area], start: datetime, end: datetime) -> tuple[str, list[Any]]:
    params: list[Any] = []
    where = scope_sql(areas, params)
    params += [iso(start), iso(end)]
    return f"{where} AND t.created_at >= ? AND t.created_at < ?", params


def _n(condition: str) -> str:
    """How many rows of the group meet `condition`."""
    return f"count(*) FILTER (WHERE {condition})"


_OUTCOME_SUMS = ",\n".join(
    _n(f"t.status = 'closed' AND t.close_reason = '{reason}'") for reason in OUTCOMES)
_KNOWN = ",".join(f"'{reason}'" for reason in OUTCOMES)
# Judged: answered, or open, running (not paused) and past its deadline without an answer.
_LATE = ("t.status <> 'closed' AND t.first_response_at IS NULL AND t.paused_at IS NULL "
         "AND t.due_at < :now")


def _figures_sql(where: str) -> str:
    return f"""SELECT t.house_id, t.neighbourhood_id,
        count(*),
        {_n("t.first_response_at IS NOT NULL")},
        {_n("t.status <> 'closed'")},
        {_n(_LATE)},
        {_OUTCOME_SUMS},
        {_n(f"t.status = 'closed' AND (t.close_reason IS NULL "
            f"OR t.close_reason NOT IN ({_KNOWN}))")},
        {_n(f"t.first_response_at IS NOT NULL OR ({_LATE})")},
        {_n("t.first_response_at IS NOT NULL AND t.first_response_at <= t.due_at")},
        COALESCE(sum(t.rating), 0), count(t.rating),
        {_n("t.reopen_count > 0")},
        {_n("t.first_response_at IS NOT NULL AND t.sla_clock = 'office'")},
        {_n("EXISTS (SELECT 1 FROM visit_requests r WHERE r.ticket_id = t.id)")}
        FROM tickets t WHERE {where}
        GROUP BY t.house_id, t.neighbourhood_id"""


def _named(params: list[Any], now: datetime) -> dict[str, Any]:
    named = {f"p{i}": v for i, v in enumerate(params)}
    named["now"] = iso(now)
    return named


def _as_named(where: str, count: int) -> str:
    """`?` placeholders in order -> `:p0`, `:p1`... (so `:now` can sit among them)."""
    out, n = [], 0
    for ch in where:
        if ch == "?" and n < count:
            out.append(f":p{n}")
            n += 1
        else:
            out.append(ch)
    return "".join(out)


async def area_figures(conn: Conn, areas: list[Area], start: datetime,
                       end: datetime, now: datetime) -> dict[tuple[int, int], Figures]:
    """Figures per (house, neighbourhood) for requests filed in [start, end)."""
    where, params = _period(areas, start, end)
    where = _as_named(where, len(params))
    rows = await fetch_all(conn, _figures_sql(where), _named(params, now))
    out: dict[tuple[int, int], Figures] = {}
    for r in rows:
        values = [int(v or 0) for v in r]
        house_id, n_id, received, answered, open_, overdue = values[:6]
        outcomes = values[6:6 + len(OUTCOMES) + 1]
        (judged, in_time, rating_sum, rating_count, reopened, office,
         visits) = values[7 + len(OUTCOMES):]
        closed = {reason: n for reason, n in zip((*OUTCOMES, ""), outcomes, strict=True) if n}
        out[(house_id, n_id)] = Figures(
            received=received, answered=answered, open=open_, overdue=overdue, closed=closed,
            judged=judged, in_time=in_time, rating_sum=rating_sum, rating_count=rating_count,
            reopened=reopened, office_answered=office, from_visits=visits)
    return out


async def median_first_response(conn: Conn, areas: list[Area], start: datetime,
                                end: datetime) -> dict[tuple[int | None, int | None], float]:
    """Median seconds from window start to first answer: per (house, neighbourhood), per
    (house, None) and for the whole scope (None, None). One sort inside SQLite."""
    where, params = _period(areas, start, end)
    rows = await fetch_all(conn, f"""
        WITH r AS MATERIALIZED (
            SELECT t.house_id AS h, t.neighbourhood_id AS n,
                   {dialect.epoch_seconds(conn, "t.first_response_at")}
                   - {dialect.epoch_seconds(conn, "t.window_started_at")} AS d
            FROM tickets t WHERE {where} AND t.first_response_at IS NOT NULL),
        levels AS (SELECT h, n, d FROM r UNION ALL SELECT h, NULL, d FROM r
                   UNION ALL SELECT NULL, NULL, d FROM r),
        ranked AS (SELECT h, n, d,
                          row_number() OVER (PARTITION BY h, n ORDER BY d) AS rn,
                          count(*) OVER (PARTITION BY h, n) AS cnt FROM levels)
        SELECT h, n, avg(d) FROM ranked WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2)
        GROUP BY h, n""", params)
    return {(None if r[0] is None else int(r[0]), None if r[1] is None else int(r[1])):
            float(r[2]) for r in rows}


async def first_responses(conn: Conn, areas: list[Area], start: datetime,
                          end: datetime, chunk: int = EXPORT_CHUNK
                          ) -> AsyncIterator[list[tuple[int, int, str, str, str]]]:
    """(house, neighbourhood, clock, window start, first answer) of the answered requests, in
    chunks: office-time windows are measured by the working calendar, which SQL cannot do."""
    where, params = _period(areas, start, end)
    async for rows in dialect.stream_rows(conn, f"""SELECT t.house_id, t.neighbourhood_id,
            t.sla_clock, t.window_started_at, t.first_response_at FROM tickets t
            WHERE {where} AND t.first_response_at IS NOT NULL""", params, chunk):
        yield [(int(r[0]), int(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]


@dataclass(frozen=True)
class WeekRow:
    house_id: int
    week: int
    received: int
    judged: int
    in_time: int


async def weekly(conn: Conn, areas: list[Area], bounds: list[datetime],
                 now: datetime) -> list[WeekRow]:
    """Requests per week by house; `bounds` are the n+1 week boundaries (aware)."""
    where, params = _period(areas, bounds[0], bounds[-1])
    where = _as_named(where, len(params))
    named = _named(params, now)
    cases = []
    for i, bound in enumerate(bounds[1:-1], start=1):
        named[f"b{i}"] = iso(bound)
        cases.append(f"WHEN t.created_at < :b{i} THEN {i - 1}")
    week = f"CASE {' '.join(cases)} ELSE {len(bounds) - 2} END" if cases else "0"
    rows = await fetch_all(conn, f"""SELECT t.house_id, {week} AS w, count(*),
        {_n(f"t.first_response_at IS NOT NULL OR ({_LATE})")},
        {_n("t.first_response_at IS NOT NULL AND t.first_response_at <= t.due_at")}
        FROM tickets t WHERE {where} GROUP BY t.house_id, w""", named)
    return [WeekRow(*(int(v or 0) for v in r)) for r in rows]


async def names(conn: Conn, table: str, ids: set[int]) -> dict[int, Name]:
    """Code and both names of houses or neighbourhoods, for the ids a report mentions."""
    if table not in ("houses", "neighbourhoods") or not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = await fetch_all(conn, f"SELECT id, code, name_fa, name_en FROM {table} "
                                 f"WHERE id IN ({marks})", sorted(ids))
    return {int(r[0]): Name(str(r[1]), str(r[2]), str(r[3])) for r in rows}


# --------------------------------------------------------------------------- export

EXPORT_SQL = """SELECT t.code, t.kind, t.status, t.close_reason, t.created_at,
    t.first_response_at, t.closed_at, t.due_at, t.rating, t.rating_comment, t.lat, t.lon,
    t.text, t.phone, t.house_id, t.neighbourhood_id, {urgency} AS urgency,
    h.code AS h_code, h.name_fa AS h_fa, h.name_en AS h_en, v.title AS visit,
    n.code AS n_code, n.name_fa AS n_fa, n.name_en AS n_en,
    c.name_fa AS c_fa, c.name_en AS c_en
    FROM tickets t JOIN neighbourhoods n ON n.id = t.neighbourhood_id
    JOIN houses h ON h.id = t.house_id JOIN categories c ON c.id = t.category_id
    LEFT JOIN visit_requests r ON r.ticket_id = t.id LEFT JOIN visits v ON v.id = r.visit_id
    WHERE {where} ORDER BY t.created_at, t.id"""


def connect_read_only(path: str) -> sqlite3.Connection:
    """A read-only connection for a reporting process (WAL lets it read while the bot writes).
    PostgreSQL's side of the export: storage/pg_export.py, with the same SQL."""
    conn = sqlite3.connect(read_only_uri(path), uri=True)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA query_only=ON")
    return conn


def _has_column(conn: sqlite3.Connection, table: str, column: str) -> bool:
    return any(r[1] == column for r in conn.execute(f"PRAGMA table_info({table})"))


def export_count(conn: sqlite3.Connection, areas: list[Area], start: datetime,
                 end: datetime) -> int:
    where, params = _period(areas, start, end)
    return int(conn.execute(f"SELECT count(*) FROM tickets t WHERE {where}", params)
               .fetchone()[0])


def export_chunks(conn: sqlite3.Connection, areas: list[Area], start: datetime, end: datetime,
                  chunk: int = EXPORT_CHUNK) -> Iterator[list[sqlite3.Row]]:
    """The period's tickets in filing order, `chunk` rows at a time (constant memory)."""
    where, params = _period(areas, start, end)
    # Urgency is a later column (office hours); until it exists every request is ordinary.
    urgency = next((f"t.{c}" for c in ("urgency", "urgent") if _has_column(conn, "tickets", c)),
                   "NULL")
    sql = EXPORT_SQL.format(where=where, urgency=urgency)
    cursor = conn.execute(sql, params)
    try:
        while rows := cursor.fetchmany(chunk):
            yield rows
    finally:
        cursor.close()


# --------------------------------------------------------------------------- weekly picture

@dataclass(frozen=True)
class Recipient:
    """A mayor or supervisor with their areas (house None: every house) and language."""

    person_id: int
    locale: str | None
    areas: tuple[tuple[int | None, str, int | None], ...]   # (house_id, scope_kind, scope_id)


async def weekly_recipients(conn: Conn) -> list[Recipient]:
    """Every active mayor and supervisor, each once, with all their areas."""
    rows = await fetch_all(conn, """SELECT r.person_id, p.locale, r.house_id, r.scope_kind,
        r.scope_id FROM roles r JOIN people p ON p.id = r.person_id
        WHERE r.role IN ('mayor', 'supervisor') AND r.revoked_at IS NULL
        ORDER BY r.person_id, r.id""")
    found: dict[int, tuple[str | None, list[tuple[int | None, str, int | None]]]] = {}
    for r in rows:
        entry = found.setdefault(int(r[0]), (r[1], []))
        entry[1].append((None if r[2] is None else int(r[2]), str(r[3]),
                         None if r[4] is None else int(r[4])))
    return [Recipient(pid, locale, tuple(areas)) for pid, (locale, areas) in found.items()]


async def queued(conn: Conn, idem_key: str) -> bool:
    """Whether an outbox row with this key exists (sent or not)."""
    rows = await fetch_all(conn, "SELECT 1 FROM outbox WHERE idem_key = ?", (idem_key,))
    return bool(rows)
