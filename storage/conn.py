"""The connection interface every repository and use case is written against.

Both backends implement exactly the subset the repositories use (nothing more):

    await conn.execute(sql, params)            -> Cursor (rowcount, lastrowid, fetch*)
    async with conn.execute(sql, params) as cur: ...
    await conn.execute_fetchall(sql, params)   -> rows
    await conn.executemany(sql, seq_of_params) -> Cursor (rowcount = the total)
    conn.in_transaction                        -> bool
    conn.dialect                               -> "sqlite" | "postgresql"

Placeholders are SQLite's (`?` and `:name`); the PostgreSQL connection (storage/pg.py)
translates them to `$n`. Rows support `row["col"]`, `row[0]` and `dict(row)` on both.
On PostgreSQL `cur.lastrowid` is the first column of the first row an
`INSERT ... RETURNING id` returned (None without RETURNING).

SQLite's side is `SqliteConn`: the aiosqlite connection's own bound methods, so a query
costs what it cost before (no extra await, no extra object per call)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator
from typing import Any, Literal, Protocol

import aiosqlite

from storage.url import Dialect


class Row(Protocol):
    """A result row: `row["col"]`, `row[0]`, `dict(row)` (sqlite3.Row, asyncpg.Record)."""

    def __getitem__(self, key: Any, /) -> Any: ...
    def keys(self) -> Iterable[str]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    @property
    def lastrowid(self) -> int | None: ...
    async def fetchone(self) -> Any: ...
    async def fetchall(self) -> Iterable[Any]: ...
    async def fetchmany(self, size: int | None = None) -> Iterable[Any]: ...


class CursorResult(Protocol):
    """What `conn.execute` returns: awaitable, or an `async with` block (closes the cursor)."""

    def __await__(self) -> Generator[Any, None, Cursor]: ...
    async def __aenter__(self) -> Cursor: ...
    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any, /) -> Any: ...


class Conn(Protocol):
    @property
    def dialect(self) -> Dialect: ...
    @property
    def in_transaction(self) -> bool: ...
    def execute(self, sql: str, parameters: Any = None, /) -> CursorResult: ...
    def execute_fetchall(self, sql: str, parameters: Any = None, /
                         ) -> Awaitable[Iterable[Row]]: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Awaitable[Cursor]: ...


class SqliteConn:
    """An aiosqlite connection seen through `Conn`: the methods are the connection's own."""

    __slots__ = ("execute", "execute_fetchall", "executemany", "raw")

    dialect: Literal["sqlite"] = "sqlite"
    execute: Callable[..., CursorResult]
    execute_fetchall: Callable[..., Awaitable[Iterable[Row]]]
    executemany: Callable[..., Awaitable[Cursor]]

    def __init__(self, raw: aiosqlite.Connection) -> None:
        self.raw = raw
        self.execute = raw.execute
        self.execute_fetchall = raw.execute_fetchall
        self.executemany = raw.executemany

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction


__all__ = ["Conn", "Cursor", "CursorResult", "Dialect", "Row", "SqliteConn"]
