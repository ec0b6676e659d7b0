"""Small helpers shared by the repositories."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from storage.conn import Conn, Row

M = TypeVar("M", bound=BaseModel)


def iso(dt: datetime | None) -> str | None:
    """Store UTC ISO strings: they sort as text and survive any driver."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def row_dict(row: Mapping[str, Any] | Row) -> dict[str, Any]:
    data = dict(row)
    for key in ("details", "payload", "scope_ids"):
        if isinstance(data.get(key), str):
            data[key] = json.loads(data[key])
    return data


def to_model(model: type[M], row: Mapping[str, Any] | Row | None) -> M | None:
    return None if row is None else model.model_validate(row_dict(row))


def to_models(model: type[M], rows: Iterable[Row]) -> list[M]:
    return [model.model_validate(row_dict(r)) for r in rows]


Params = Iterable[Any] | Mapping[str, Any]


def _bind(params: Params) -> tuple[Any, ...] | dict[str, Any]:
    """Named parameters stay a mapping; positional ones become a tuple."""
    return dict(params) if isinstance(params, Mapping) else tuple(params)


# One trip to the database thread per query (execute + fetch + close there), not three.

async def fetch_one(conn: Conn, sql: str, params: Params = ()
                    ) -> Row | None:
    rows = list(await conn.execute_fetchall(sql, _bind(params)))
    return rows[0] if rows else None


async def fetch_all(conn: Conn, sql: str, params: Params = ()
                    ) -> list[Row]:
    return list(await conn.execute_fetchall(sql, _bind(params)))


async def fetch_value(conn: Conn, sql: str, params: Params = ()) -> Any:
    row = await fetch_one(conn, sql, params)
    return None if row is None else row[0]
