"""The residents' open forms (`forms` table): one JSON row per person."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import ValidationError

from bot.domain.forms import ResidentForm
from storage.base import fetch_all, fetch_one, iso
from storage.conn import Conn


async def get(conn: Conn, person_id: int) -> ResidentForm | None:
    """The person's form; None also when a row no longer fits the model."""
    row = await fetch_one(conn, "SELECT data FROM forms WHERE person_id = ?", (person_id,))
    if row is None:
        return None
    try:
        return ResidentForm.model_validate_json(row[0])
    except ValidationError:
        return None


async def put(conn: Conn, form: ResidentForm, now: datetime) -> None:
    await conn.execute("""
        INSERT INTO forms(person_id, data, updated_at) VALUES (?, ?, ?)
        ON CONFLICT(person_id) DO UPDATE SET data = excluded.data,
            updated_at = excluded.updated_at""",
        (form.person_id, form.model_dump_json(), iso(now)))


async def delete(conn: Conn, person_id: int) -> None:
    await conn.execute("DELETE FROM forms WHERE person_id = ?", (person_id,))


async def legacy_step(conn: Conn, chat_id: int, person_id: int) -> str | None:
    """The resident conversation's state as PTB's persistence kept it before the forms table
    (the step of a form found in user_data)."""
    row = await fetch_one(conn, "SELECT state FROM conversations WHERE name = 'resident' "
                          "AND key = ?", (json.dumps([chat_id, person_id]),))
    if row is None:
        return None
    try:
        state = json.loads(row[0])
    except ValueError:
        return None
    return state if isinstance(state, str) else None


async def states(conn: Conn) -> dict[tuple[int, int], str]:
    """(chat id, person id) -> step of every open form: the resident conversation's states."""
    found: dict[tuple[int, int], str] = {}
    for row in await fetch_all(conn, "SELECT data FROM forms"):
        try:
            form = ResidentForm.model_validate_json(row[0])
        except ValidationError:
            continue
        if form.step:
            found[(form.chat_id, form.person_id)] = form.step
    return found
