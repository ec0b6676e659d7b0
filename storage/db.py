"""The database: SQLite (one aiosqlite connection per process) or PostgreSQL (storage/pg.py),
behind one API: `open`, `close`, `tx()` for changes, `read()` for queries, `autocommit()`,
`report()` for long read-only queries, `migrate()`.

SQLite allows one writer at a time anyway; one connection behind an asyncio lock keeps
every multi-row change atomic (`BEGIN IMMEDIATE` ... `COMMIT`) without busy retries inside
the process, while WAL lets a second process (backup, CLI) read at the same time. PostgreSQL
keeps the same shape (one connection behind the lock, `BEGIN` ... `COMMIT`), so the
repositories and use cases see the same semantics on both.

`storage.backends.database_for(url)` gives the backend a DATABASE_URL names;
`Database(path)` (a path or `sqlite:///...`) is a SQLite one. Annotate with `Database`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import stat
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import aiosqlite

from storage.conn import Conn, SqliteConn
from storage.url import Dialect, parse_database_url

log = logging.getLogger(__name__)

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
MIGRATION_PACKAGES: dict[str, str] = {"sqlite": "storage.migrations",
                                      "postgresql": "storage.migrations_pg"}


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer version of the bot than this one."""


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened; the message is one line, password-free."""


def migration_files(dialect: Dialect = "sqlite") -> list[tuple[int, str, str]]:
    """(number, name, sql) of every migration of a dialect's set, in order; numbers must be
    1..n without gaps."""
    found = []
    try:
        folder = resources.files(MIGRATION_PACKAGES[dialect])
    except ModuleNotFoundError:
        return []
    for entry in folder.iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for expected, (number, name, _) in enumerate(found, start=1):
        if number != expected:
            raise RuntimeError(f"migration {name} is out of sequence (expected {expected:04d})")
    return found


def latest_version(dialect: Dialect = "sqlite") -> int:
    files = migration_files(dialect)
    return files[-1][0] if files else 0


def check_schema_version(version: int, known: list[tuple[int, str, str]]) -> None:
    """Refuse a schema newer than this code: its migrations would be unknown to us."""
    latest = known[-1][0] if known else 0
    if version > latest:
        raise SchemaTooNew(f"the database's schema version {version} is newer than this code "
                           f"knows ({latest}): run the newer version of the bot")


PRIVATE_MODE = 0o600


def private_files(path: Path) -> None:
    """The database holds residents' phone numbers and messages: only its owner may read it.
    A new database is created 0600 (SQLite gives its -wal and -shm files the database's
    mode); an existing one with wider permissions is tightened, with one log line."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_MODE)
        os.close(fd)
        os.chmod(path, PRIVATE_MODE)    # whatever the umask did
        return
    widened = []
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(candidate, PRIVATE_MODE)
            widened.append(f"{candidate.name} {mode:o}")
    if widened:
        log.warning("database files were readable by others (%s); tightened to 0600",
                    ", ".join(widened))


class Database:
    """Owns the connection(s). `tx()` for changes, `read()` for queries.

    Subclasses: `SqliteDatabase`, `storage.pg.PgDatabase`; annotate with `Database`."""

    dialect: Dialect
    path: str

    def __new__(cls, *args: Any, **kwargs: Any) -> Database:
        """`Database(path)` is a SQLite database (storage.backends.database_for(url) picks
        the backend of a DATABASE_URL)."""
        if cls is not Database:
            return super().__new__(cls)
        target = args[0] if args else kwargs.get("path")
        if isinstance(target, str) and target.split("://", 1)[0].lower() in (
                "postgresql", "postgres"):
            raise ValueError("Database(path) is SQLite: use "
                             "storage.backends.database_for(url) for PostgreSQL")
        return super().__new__(SqliteDatabase)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._lock = asyncio.Lock()
        self._open_lock = asyncio.Lock()
        self._report_lock = asyncio.Lock()

    def describe(self) -> str:
        """The backend and where, for `check` and logs (never a password)."""
        raise NotImplementedError

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def worker_target(self) -> str:
        """What a worker process (the export) opens on its own: the SQLite file's absolute
        path, or the PostgreSQL URL (with its password: pass it on stdin, never log it)."""
        raise NotImplementedError

    @property
    def conn(self) -> Conn:
        raise NotImplementedError

    async def open(self, migrate: bool = True) -> None:
        """Connect (and migrate, unless told not to: `check` only looks)."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def migrate(self) -> int:
        raise NotImplementedError

    async def schema_version(self) -> int:
        raise NotImplementedError

    def tx(self) -> AbstractAsyncContextManager[Conn]:
        raise NotImplementedError

    def autocommit(self) -> AbstractAsyncContextManager[Conn]:
        raise NotImplementedError

    def read(self) -> AbstractAsyncContextManager[Conn]:
        raise NotImplementedError

    def report(self) -> AbstractAsyncContextManager[Conn]:
        raise NotImplementedError

    _conn: Any = None


class SqliteDatabase(Database):
    """One aiosqlite connection behind the process lock; a second read-only one for reports."""

    dialect: Literal["sqlite"] = "sqlite"

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        text = str(path)
        if text.lower().startswith("sqlite:"):
            text = parse_database_url(text).path
        self.path = text
        self._conn: SqliteConn | None = None
        self._report_conn: SqliteConn | None = None

    def describe(self) -> str:
        return f"sqlite {self.path}"

    def worker_target(self) -> str:
        return str(Path(self.path).resolve())

    async def open(self, migrate: bool = True) -> None:
        """Connect, set pragmas and migrate. Idempotent: persistence and post_init both call it."""
        async with self._open_lock:
            if self._conn is not None:
                return
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                private_files(Path(self.path))
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            await conn.execute("PRAGMA synchronous=NORMAL")
            self._conn = SqliteConn(conn)
            if not migrate:
                return
            try:
                await self.migrate()
            except BaseException:
                await self.close()
                raise

    async def close(self) -> None:
        if self._report_conn is not None:
            await self._report_conn.raw.close()
            self._report_conn = None
        if self._conn is not None:
            await self._conn.raw.close()
            self._conn = None

    @property
    def conn(self) -> SqliteConn:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def schema_version(self) -> int:
        async with self._lock:
            rows = list(await self.conn.raw.execute_fetchall("PRAGMA user_version"))
        return int(rows[0][0]) if rows else 0

    async def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction. Returns the schema version."""
        conn = self.conn.raw
        known = migration_files("sqlite")
        async with self._lock:
            async with conn.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            version = int(row[0]) if row else 0
            check_schema_version(version, known)
            for number, name, sql in known:
                if number <= version:
                    continue
                log.info("applying migration %s", name)
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _split_sql(sql):
                        await conn.execute(statement)
                    await conn.execute(f"PRAGMA user_version = {number}")
                    await conn.execute("COMMIT")
                except BaseException:
                    await conn.execute("ROLLBACK")
                    raise
                version = number
            return version

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[Conn]:
        """A write transaction: everything inside commits together or not at all."""
        async with self._lock:
            conn = self.conn
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                # Cancelled while BEGIN ran in the worker thread: it may still have started
                # the transaction; leave the shared connection clean for the next caller.
                await asyncio.shield(self._rollback_if_open(conn))
                raise
            try:
                yield conn
            except BaseException:
                await asyncio.shield(self._rollback_if_open(conn))
                raise
            else:
                await conn.execute("COMMIT")

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[Conn]:
        """Statements that each commit on their own (no BEGIN/COMMIT round trips): for a
        write that is one statement, or several that need not be atomic together."""
        async with self._lock:
            yield self.conn

    @staticmethod
    async def _rollback_if_open(conn: SqliteConn) -> None:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        """Queries; holds the lock so they never see another task's half-done transaction."""
        async with self._lock:
            yield self.conn

    @asynccontextmanager
    async def report(self) -> AsyncIterator[Conn]:
        """Long read-only queries (reports) on a connection and thread of their own.

        WAL lets it read while the bot writes, so residents and staff never wait behind a
        report; reports queue behind each other on their own lock. An in-memory database
        has no second connection: there reports share `read()`."""
        if self.path == ":memory:":
            async with self.read() as conn:
                yield conn
            return
        async with self._report_lock:
            if self._report_conn is None:
                self.conn  # noqa: B018 - the main connection opened (and migrated) first
                raw = await aiosqlite.connect(read_only_uri(self.path), uri=True,
                                              isolation_level=None)
                raw.row_factory = aiosqlite.Row
                await raw.execute("PRAGMA busy_timeout=5000")
                await raw.execute("PRAGMA query_only=ON")
                self._report_conn = SqliteConn(raw)
            yield self._report_conn


def read_only_uri(path: str) -> str:
    """`file:///abs/path?mode=ro`: a connection that can never write."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own)."""
    statements, buffer = [], []
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") or not stripped:
            continue
        buffer.append(line)
        candidate = "\n".join(buffer)
        if stripped.endswith(";") and _is_complete(candidate):
            statements.append(candidate)
            buffer = []
    if buffer and "\n".join(buffer).strip():
        statements.append("\n".join(buffer))
    return statements


def _is_complete(sql: str) -> bool:
    import sqlite3

    return sqlite3.complete_statement(sql)
