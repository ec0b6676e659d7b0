"""Field visits (`visits`), the requests filed at them (`visit_requests`) and the pending
«last four digits» questions of claims (`claim_prompts`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain.visits import Visit, VisitDraft, VisitRequest
from storage.base import fetch_all, fetch_one, fetch_value, iso, row_dict, to_model, to_models
from storage.conn import Conn, Row

_VISIT_UPDATABLE = frozenset({"neighbourhood_id", "title", "held_at", "lat", "lon", "step",
                              "draft", "ended_at"})


def _visit(row: Row | None) -> Visit | None:
    if row is None:
        return None
    data = row_dict(row)
    data["draft"] = VisitDraft.model_validate_json(data["draft"]) if data["draft"] else None
    return Visit.model_validate(data)


async def open_visit(conn: Conn, filer_id: int) -> Visit | None:
    return _visit(await fetch_one(conn, "SELECT * FROM visits WHERE filer_id = ? AND "
                                        "ended_at IS NULL", (filer_id,)))


async def get(conn: Conn, visit_id: int) -> Visit | None:
    return _visit(await fetch_one(conn, "SELECT * FROM visits WHERE id = ?", (visit_id,)))


async def start(conn: Conn, *, filer_id: int, chat_id: int, step: str,
                now: datetime, neighbourhood_id: int | None = None) -> Visit:
    visit = _visit(await fetch_one(conn, """
        INSERT INTO visits(filer_id, chat_id, neighbourhood_id, step, started_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?) RETURNING *""",
        (filer_id, chat_id, neighbourhood_id, step, iso(now), iso(now))))
    assert visit is not None
    return visit


async def update(conn: Conn, visit_id: int, now: datetime, **fields: Any
                 ) -> Visit:
    unknown = set(fields) - _VISIT_UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    values: list[Any] = []
    for value in fields.values():
        if isinstance(value, VisitDraft):
            value = value.model_dump_json()
        values.append(iso(value) if isinstance(value, datetime) else value)
    assignments = "".join(f"{name} = ?, " for name in fields)
    await conn.execute(f"UPDATE visits SET {assignments}updated_at = ? WHERE id = ?",
                       (*values, iso(now), visit_id))
    visit = await get(conn, visit_id)
    assert visit is not None
    return visit


async def delete(conn: Conn, visit_id: int) -> None:
    """A visit abandoned before anything was filed."""
    await conn.execute("DELETE FROM visits WHERE id = ?", (visit_id,))


# ---------------------------------------------------------------------------- requests

async def add_request(conn: Conn, *, ticket_id: int, visit_id: int,
                      filer_id: int, name: str, phone: str | None, now: datetime) -> None:
    await conn.execute("""
        INSERT INTO visit_requests(ticket_id, visit_id, filer_id, name, phone, created_at)
        VALUES (?, ?, ?, ?, ?, ?)""", (ticket_id, visit_id, filer_id, name, phone, iso(now)))


async def request(conn: Conn, ticket_id: int) -> VisitRequest | None:
    return to_model(VisitRequest, await fetch_one(
        conn, "SELECT * FROM visit_requests WHERE ticket_id = ?", (ticket_id,)))


async def request_by_handover(conn: Conn, token: str) -> VisitRequest | None:
    return to_model(VisitRequest, await fetch_one(
        conn, "SELECT * FROM visit_requests WHERE handover_token = ?", (token,)))


async def requests_of(conn: Conn, visit_id: int) -> list[VisitRequest]:
    return to_models(VisitRequest, await fetch_all(
        conn, "SELECT * FROM visit_requests WHERE visit_id = ? ORDER BY ticket_id",
        (visit_id,)))


async def set_tries(conn: Conn, ticket_id: int, tries: int,
                    locked_until: datetime | None) -> None:
    await conn.execute("UPDATE visit_requests SET failed_tries = ?, locked_until = ? "
                       "WHERE ticket_id = ?", (tries, iso(locked_until), ticket_id))


async def set_handover(conn: Conn, ticket_id: int, token: str | None,
                       until: datetime | None) -> None:
    await conn.execute("UPDATE visit_requests SET handover_token = ?, handover_until = ? "
                       "WHERE ticket_id = ?", (token, iso(until), ticket_id))


async def claim(conn: Conn, ticket_id: int, person_id: int, now: datetime
                ) -> None:
    """The resident takes the request over: it becomes theirs (tickets.resident_id), the
    one-time link and the lock are gone."""
    await conn.execute("""
        UPDATE visit_requests SET claimed_by = ?, claimed_at = ?, handover_token = NULL,
            handover_until = NULL, failed_tries = 0, locked_until = NULL
        WHERE ticket_id = ?""", (person_id, iso(now), ticket_id))
    await conn.execute("UPDATE tickets SET resident_id = ?, updated_at = ? WHERE id = ?",
                       (person_id, iso(now), ticket_id))


async def proxy_name(conn: Conn, ticket_id: int, chat_id: int) -> str | None:
    """The resident's name when `chat_id` is the filer of this unclaimed visit request (a
    message for the resident that goes to the filer); else None."""
    value = await fetch_value(conn, """SELECT name FROM visit_requests WHERE ticket_id = ?
        AND filer_id = ? AND claimed_by IS NULL""", (ticket_id, chat_id))
    return None if value is None else str(value)


# ---------------------------------------------------------------------------- the channel

async def tags(conn: Conn, ticket_ids: Iterable[int]
               ) -> dict[int, tuple[int, str, str]]:
    """ticket id -> (visit id, visit title, the resident's name) for those filed at a visit."""
    ids = sorted(set(ticket_ids))
    found: dict[int, tuple[int, str, str]] = {}
    for start_at in range(0, len(ids), 500):
        chunk = ids[start_at:start_at + 500]
        marks = ",".join("?" * len(chunk))
        for row in await fetch_all(conn, f"""
                SELECT r.ticket_id, v.id, v.title, r.name FROM visit_requests r
                JOIN visits v ON v.id = r.visit_id WHERE r.ticket_id IN ({marks})""", chunk):
            found[int(row[0])] = (int(row[1]), str(row[2]), str(row[3]))
    return found


async def counts_by_place(conn: Conn, neighbourhood_ids: tuple[int, ...] | None
                          ) -> dict[tuple[int, int], int]:
    """(house id, neighbourhood id) -> requests filed at visits (None: everywhere)."""
    sql = """SELECT t.house_id, t.neighbourhood_id, count(*) FROM visit_requests r
             JOIN tickets t ON t.id = r.ticket_id"""
    params: list[Any] = []
    if neighbourhood_ids is not None:
        if not neighbourhood_ids:
            return {}
        sql += f" WHERE t.neighbourhood_id IN ({','.join('?' * len(neighbourhood_ids))})"
        params.extend(neighbourhood_ids)
    rows = await fetch_all(conn, sql + " GROUP BY t.house_id, t.neighbourhood_id", params)
    return {(int(r[0]), int(r[1])): int(r[2]) for r in rows}


# ---------------------------------------------------------------------------- claim prompts

async def set_prompt(conn: Conn, person_id: int, ticket_id: int,
                     now: datetime) -> None:
    await conn.execute("""
        INSERT INTO claim_prompts(person_id, ticket_id, created_at) VALUES (?, ?, ?)
        ON CONFLICT(person_id) DO UPDATE SET ticket_id = excluded.ticket_id,
            created_at = excluded.created_at""", (person_id, ticket_id, iso(now)))


async def prompt(conn: Conn, person_id: int) -> tuple[int, datetime] | None:
    row = await fetch_one(conn, "SELECT ticket_id, created_at FROM claim_prompts "
                                "WHERE person_id = ?", (person_id,))
    return None if row is None else (int(row[0]), datetime.fromisoformat(row[1]))


async def drop_prompt(conn: Conn, person_id: int) -> None:
    await conn.execute("DELETE FROM claim_prompts WHERE person_id = ?", (person_id,))


async def open_steps(conn: Conn) -> dict[int, str]:
    """filer id -> step of every open visit."""
    rows = await fetch_all(conn, "SELECT filer_id, step FROM visits WHERE ended_at IS NULL")
    return {int(r[0]): str(r[1]) for r in rows}
