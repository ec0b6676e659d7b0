"""PostgreSQL behind the same `Conn` and `Database` as SQLite (asyncpg).

The repositories keep SQLite's placeholders (`?`, `:name`); `translate` turns them into
PostgreSQL's `$n` once per SQL text (string literals, quoted names, comments and `::` casts
are left alone). Rows are asyncpg Records: `row["col"]`, `row[0]` and `dict(row)` work as
with sqlite3.Row.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Generator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

import asyncpg

from storage.conn import Conn, Row
from storage.db import Database, DatabaseUnavailable, check_schema_version, migration_files
from storage.url import DatabaseUrl, mask_password, parse_database_url

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the migrations: two processes starting together migrate once.
MIGRATE_LOCK_KEY = 0x4D41484C_0001  # "MAHL", 1
CONNECT_TIMEOUT = 10.0
STATEMENT_CACHE = 1024

_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT = _IDENT_START | frozenset("0123456789")


class PlaceholderError(ValueError):
    pass


@lru_cache(maxsize=4096)
def translate(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """SQLite placeholders to PostgreSQL's: `?` become `$1, $2, ...` in order; `:name`
    become `$n` (the same name, the same number). Returns the SQL and, for named
    placeholders, the names in `$n` order (None for positional ones)."""
    out: list[str] = []
    names: dict[str, int] = {}
    positional = 0
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "'" or ch == '"':                      # literal or quoted name
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote inside
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif ch == "-" and sql.startswith("--", i):    # comment to the end of the line
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
        elif ch == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j])
            i = j
        elif ch == "?":
            positional += 1
            out.append(f"${positional}")
            i += 1
        elif ch == ":":
            if sql.startswith("::", i):                 # a cast
                out.append("::")
                i += 2
            elif i + 1 < n and sql[i + 1] in _IDENT_START:
                j = i + 1
                while j < n and sql[j] in _IDENT:
                    j += 1
                name = sql[i + 1:j]
                number = names.setdefault(name, len(names) + 1)
                out.append(f"${number}")
                i = j
            else:
                out.append(ch)
                i += 1
        else:
            j = i + 1
            while j < n and sql[j] not in "'\"-/?:":
                j += 1
            out.append(sql[i:j])
            i = j
    if positional and names:
        raise PlaceholderError("SQL mixes ? and :name placeholders")
    return "".join(out), (tuple(names) if names else None)


def bind(sql: str, parameters: Any) -> tuple[str, Sequence[Any]]:
    text, names = translate(sql)
    if parameters is None:
        return text, ()
    if names is not None:
        if not isinstance(parameters, Mapping):
            raise PlaceholderError("named placeholders need a mapping of parameters")
        return text, [parameters[name] for name in names]
    if isinstance(parameters, Mapping):
        if parameters:
            raise PlaceholderError("a mapping of parameters for positional placeholders")
        return text, ()
    return text, parameters if isinstance(parameters, (tuple, list)) else tuple(parameters)


_COUNTED = frozenset({b"INSERT", b"UPDATE", b"DELETE", b"MERGE", b"COPY"})


def rowcount_of(status: bytes | str | None) -> int:
    """The affected rows of a command status ("INSERT 0 3", "UPDATE 2"); -1 for others
    (as sqlite3 gives for a SELECT)."""
    if not status:
        return -1
    raw = status.encode() if isinstance(status, str) else status
    parts = raw.split()
    if parts and parts[0] in _COUNTED and parts[-1].isdigit():
        return int(parts[-1])
    return -1


class PgCursor:
    """The result of one statement, already fetched (asyncpg returns rows at once)."""

    __slots__ = ("_pos", "_rows", "lastrowid", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int, insert: bool = False) -> None:
        self._rows = rows
        self._pos = 0
        self.rowcount = rowcount
        self.lastrowid: int | None = (
            int(rows[0][0]) if insert and rows and isinstance(rows[0][0], int) else None)

    async def fetchone(self) -> Any:
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    async def fetchall(self) -> list[Any]:
        rows = self._rows[self._pos:]
        self._pos = len(self._rows)
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = 1 if size is None else size
        rows = self._rows[self._pos:self._pos + size]
        self._pos += len(rows)
        return rows

    async def close(self) -> None:
        self._rows = []

    def __aiter__(self) -> PgCursor:
        return self

    async def __anext__(self) -> Any:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row


class _PgResult:
    """`await conn.execute(...)` or `async with conn.execute(...) as cur`."""

    __slots__ = ("_coro",)

    def __init__(self, coro: Any) -> None:
        self._coro = coro

    def __await__(self) -> Generator[Any, None, PgCursor]:
        result: PgCursor = yield from self._coro.__await__()
        return result

    async def __aenter__(self) -> PgCursor:
        cursor: PgCursor = await self._coro
        return cursor

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        return None


class PgConn:
    """An asyncpg connection seen through `Conn`."""

    __slots__ = ("raw",)

    dialect: Literal["postgresql"] = "postgresql"

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        return bool(self.raw.is_in_transaction())

    def execute(self, sql: str, parameters: Any = None) -> _PgResult:
        return _PgResult(self._run(sql, parameters))

    async def _run(self, sql: str, parameters: Any) -> PgCursor:
        text, args = bind(sql, parameters)
        # asyncpg's own execute() drops the rows and fetch() drops the status; this internal
        # call (asyncpg 0.32, pinned) returns both from one round trip, through the
        # connection's statement cache.
        rows, status, _ = await self.raw._execute(text, args, 0, None, return_status=True)
        return PgCursor(rows, rowcount_of(status), insert=status[:6] == b"INSERT")

    async def execute_fetchall(self, sql: str, parameters: Any = None) -> list[Row]:
        text, args = bind(sql, parameters)
        rows: list[Row] = await self.raw.fetch(text, *args)
        return rows

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> PgCursor:
        """Each row in turn (the affected count is the total, as sqlite3 reports)."""
        total = 0
        for params in parameters:
            cursor = await self._run(sql, params)
            total += max(cursor.rowcount, 0)
        return PgCursor([], total)


def _check_conn(conn: PgConn) -> Conn:
    return conn     # PgConn implements Conn (checked by mypy here)


class PgDatabase(Database):
    """One connection behind the process lock (tx/read/autocommit, as with SQLite) and a
    second, read-only one for reports."""

    dialect: Literal["postgresql"] = "postgresql"

    def __init__(self, url: DatabaseUrl | str, connect_timeout: float = CONNECT_TIMEOUT
                 ) -> None:
        super().__init__()
        self.url = parse_database_url(url) if isinstance(url, str) else url
        self.path = ""          # no file: reports and charts use a temporary folder
        self.connect_timeout = connect_timeout
        self._conn: PgConn | None = None
        self._report_conn: PgConn | None = None

    def describe(self) -> str:
        return f"postgresql {self.url.where}"

    def worker_target(self) -> str:
        return self.url.dsn

    async def connect(self, read_only: bool = False) -> asyncpg.Connection:
        """A new connection of its own to the same database (the caller closes it): e.g.
        the leadership lock, which must not share the main connection. DatabaseUnavailable
        (one line, no password) when the server does not answer in `connect_timeout`."""
        settings = {"application_name": "mahalleyar"}
        if read_only:
            settings["default_transaction_read_only"] = "on"
        try:
            return await asyncpg.connect(self.url.dsn, timeout=self.connect_timeout,
                                         statement_cache_size=STATEMENT_CACHE,
                                         server_settings=settings)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            reason = mask_password(str(exc) or type(exc).__name__, self.url)
            raise DatabaseUnavailable(
                f"DATABASE_URL: cannot connect to PostgreSQL at {self.url.where}: "
                f"{reason.splitlines()[0] if reason else type(exc).__name__}") from None

    async def open(self, migrate: bool = True) -> None:
        async with self._open_lock:
            if self._conn is not None:
                return
            self._conn = PgConn(await self.connect())
            if not migrate:
                return
            try:
                await self.migrate()
            except BaseException:
                await self.close()
                raise

    async def close(self) -> None:
        for attr in ("_report_conn", "_conn"):
            conn: PgConn | None = getattr(self, attr)
            if conn is not None:
                setattr(self, attr, None)
                try:
                    await asyncio.wait_for(conn.raw.close(), 5)
                except (TimeoutError, OSError, asyncpg.InterfaceError):
                    conn.raw.terminate()

    @property
    def conn(self) -> PgConn:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def schema_version(self) -> int:
        async with self._lock:
            return await _schema_version(self.conn.raw)

    async def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction under an advisory lock (a
        second process starting at the same moment waits, then finds them applied)."""
        known = migration_files("postgresql")
        raw = self.conn.raw
        async with self._lock:
            async with raw.transaction():
                await raw.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK_KEY)
                await raw.execute("""CREATE TABLE IF NOT EXISTS schema_version (
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL,
                    applied_at TEXT NOT NULL)""")
                version = await _schema_version(raw)
            check_schema_version(version, known)
            for number, name, sql in known:
                if number <= version:
                    continue
                async with raw.transaction():
                    await raw.execute("SELECT pg_advisory_xact_lock($1)", MIGRATE_LOCK_KEY)
                    version = await _schema_version(raw)
                    if number <= version:           # another process applied it meanwhile
                        continue
                    log.info("applying migration %s", name)
                    await raw.execute(sql)          # the whole file, one simple query
                    await raw.execute(
                        "INSERT INTO schema_version(version, name, applied_at) "
                        "VALUES ($1, $2, $3)", number, name,
                        datetime.now(UTC).isoformat(timespec="seconds"))
                version = number
            return version

    async def _live(self) -> PgConn:
        """The main connection; a new one if the server closed it (a restart, a failover of
        the server, an idle timeout). The statement that met the closed connection failed;
        the next one works again."""
        conn = self.conn
        if conn.raw.is_closed():
            log.warning("the PostgreSQL connection was closed; connecting again")
            conn = self._conn = PgConn(await self.connect())
        return conn

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[Conn]:
        async with self._lock:
            conn = await self._live()
            try:
                await conn.raw.execute("BEGIN")
            except BaseException:
                await asyncio.shield(_rollback_if_open(conn))
                raise
            try:
                yield conn
            except BaseException:
                await asyncio.shield(_rollback_if_open(conn))
                raise
            else:
                await conn.raw.execute("COMMIT")

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Conn]:
        async with self._lock:
            yield await self._live()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        async with self._lock:
            yield await self._live()

    @asynccontextmanager
    async def report(self) -> AsyncIterator[Conn]:
        """Long read-only queries on a connection of their own (MVCC: they never wait for
        the bot's writes, nor it for them)."""
        async with self._report_lock:
            if self._report_conn is None or self._report_conn.raw.is_closed():
                self.conn  # noqa: B018 - the main connection opened (and migrated) first
                self._report_conn = PgConn(await self.connect(read_only=True))
            yield self._report_conn


async def _rollback_if_open(conn: PgConn) -> None:
    if conn.raw.is_in_transaction() and not conn.raw.is_closed():
        await conn.raw.execute("ROLLBACK")


async def _schema_version(raw: asyncpg.Connection) -> int:
    exists = await raw.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    if not exists:
        return 0
    value = await raw.fetchval("SELECT max(version) FROM schema_version")
    return int(value or 0)
