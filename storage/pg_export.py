"""The export's rows from PostgreSQL, for `bot.report_worker` (a process of its own): one
read-only REPEATABLE READ transaction, so the count and the rows agree, and a server-side
cursor read `chunk` rows at a time (constant memory, as with SQLite's cursor)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import asyncpg

from storage.pg import CONNECT_TIMEOUT, bind
from storage.reports import EXPORT_SQL, _period
from storage.staff_queries import Area


async def export_postgres(dsn: str, areas: list[Area], start: datetime, end: datetime,
                          chunk: int, on_total: Callable[[int], None],
                          on_rows: Callable[[list[Any]], None]) -> None:
    conn = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT, server_settings={
        "application_name": "mahalleyar-export", "default_transaction_read_only": "on"})
    try:
        where, params = _period(areas, start, end)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            text, args = bind(f"SELECT count(*) FROM tickets t WHERE {where}", params)
            on_total(int(await conn.fetchval(text, *args)))
            text, args = bind(EXPORT_SQL.format(where=where, urgency="t.urgent"), params)
            cursor = await conn.cursor(text, *args)
            while rows := await cursor.fetch(chunk):
                on_rows(rows)
    finally:
        await conn.close()
