"""`python -m bot copy-db`: copy every table between SQLite and PostgreSQL, verified.

Table by table in foreign-key order, streamed in chunks (a 1,000,000-ticket database is never
held in memory), inside ONE transaction on the target: a copy that fails or does not verify
is rolled back and leaves the target as it was. The source is read in one snapshot (a read
transaction), so a copy is consistent even if something writes meanwhile (stop the bot anyway:
what it writes after the snapshot is not copied).

Rules:
- the target's schema must be at the same migration version as the source's;
- the target must hold nothing but what its migrations insert (e.g. the default canned
  replies), unless `replace=True` (then its rows are deleted first, in the same transaction);
- search-index shadow tables (SQLite FTS5 `ticket_fts*`) are not copied: the index is
  rebuilt on a SQLite target (its insert trigger indexes every copied ticket, after the old
  index is emptied); on PostgreSQL the pg_trgm index is an ordinary index and needs nothing;
- generated columns (PostgreSQL's folded `tickets.search_text`, migrations_pg/0009) are
  neither copied nor checksummed: the target computes its own;
- identity/serial sequences on a PostgreSQL target are set past the largest copied id;
- verified by row counts and a checksum per table: SHA-256 of a canonical encoding of every
  row, ordered by primary key (text keys in code-point order on both engines), with values
  normalised so the same data gives the same checksum on either engine (see `canonical`).
  The source's checksum is taken from the rows as they are read for the copy, the target's
  by reading the copied table back.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from storage.url import DatabaseUrl, DatabaseUrlError, mask_password, parse_database_url

CHUNK_ROWS = 5_000
PROGRESS_ROWS = 100_000      # a table this big gets progress lines
PROGRESS_SECONDS = 5.0       # ... at most this far apart

# Tables that belong to one database's own bookkeeping, never copied.
LOCAL_TABLES = {"schema_version", "leader_lease"}

Progress = Callable[[str], None]


class CopyRefused(Exception):
    """The copy was not started (exit 2): wrong schema version, non-empty target, bad URL."""


class CopyFailed(Exception):
    """The database refused something during the copy (exit 1); the target was rolled back."""


# ---------------------------------------------------------------------------------- URLs

def parse_url(url: str) -> DatabaseUrl:
    """storage.url's DATABASE_URL rules (sqlite:///relative, sqlite:////absolute,
    postgresql://user:password@host:port/db); a bad one is refused in one line."""
    try:
        parsed = parse_database_url(url)
    except DatabaseUrlError as exc:
        raise CopyRefused(f"bad database URL: {exc}") from None
    if parsed.dialect == "sqlite" and parsed.path == ":memory:":
        raise CopyRefused("an in-memory SQLite database cannot be copied from or to")
    return parsed


def redact(url: str) -> str:
    """The URL without its password (safe to print)."""
    try:
        return parse_database_url(url).safe
    except DatabaseUrlError:
        return "<unusable URL>"


# ------------------------------------------------------------------------ canonical rows

# A column's kind, from its declared type on either engine; it only steers normalisation.
INT, FLOAT, TEXT, BYTES, BOOL, JSON, TIME, ANY = (
    "int", "float", "text", "bytes", "bool", "json", "time", "any")


def sqlite_kind(declared: str) -> str:
    """SQLite's affinity rules (https://sqlite.org/datatype3.html), plus BOOLEAN/JSON names."""
    t = declared.upper()
    if "BOOL" in t:
        return BOOL
    if "JSON" in t:
        return JSON
    if "INT" in t:
        return INT
    if any(word in t for word in ("CHAR", "CLOB", "TEXT")):
        return TEXT
    if "BLOB" in t:
        return BYTES
    if any(word in t for word in ("REAL", "FLOA", "DOUB")):
        return FLOAT
    return ANY if not t else FLOAT   # NUMERIC affinity: numbers either way


def pg_kind(declared: str) -> str:
    t = declared.lower()
    if t in ("smallint", "integer", "bigint"):
        return INT
    if t in ("real", "double precision") or t.startswith("numeric"):
        return FLOAT
    if t == "boolean":
        return BOOL
    if t in ("json", "jsonb"):
        return JSON
    if t == "bytea":
        return BYTES
    if t.startswith("timestamp") or t == "date":
        return TIME
    if t == "text" or t.startswith(("character", "varchar", "char")):
        return TEXT
    return ANY


def merge_kinds(a: str, b: str) -> str:
    """The kind both engines' declarations agree on; the more specific one wins."""
    for special in (JSON, BOOL, TIME, FLOAT, BYTES):
        if special in (a, b):
            return special
    if a == ANY:
        return b
    return a


def _tagged(tag: bytes, payload: bytes) -> bytes:
    return tag + str(len(payload)).encode() + b":" + payload


def _float(value: float) -> bytes:
    if math.isnan(value):
        return _tagged(b"F", b"nan")
    if value.is_integer() and abs(value) < 2**63:
        return _tagged(b"I", str(int(value)).encode())
    return _tagged(b"F", repr(value).encode())


def canonical(value: Any, kind: str = ANY) -> bytes:
    """One value as bytes that do not depend on the engine it was read from.

    NULL is `N`; integers (and booleans, as 0/1) are decimal; a float that is a whole number
    is written as that integer (SQLite keeps 2.0 in a REAL column; a number column may hand
    back 2), any other float by its shortest repr; text as UTF-8; bytes raw; JSON text parsed
    and re-written with sorted keys (PostgreSQL's jsonb re-orders and re-spaces it);
    date-times as UTC ISO text; a number in a text column as its text (SQLite's dynamic
    typing). Every value is tagged and length-prefixed, so a row is unambiguous."""
    if value is None:
        return b"N"
    if isinstance(value, bool):
        return _tagged(b"I", b"1" if value else b"0")
    if kind == JSON and isinstance(value, str | bytes):
        try:
            parsed = json.loads(value)
        except ValueError:
            pass
        else:
            return _tagged(b"J", json.dumps(parsed, sort_keys=True, ensure_ascii=False,
                                            separators=(",", ":")).encode())
    if isinstance(value, int):
        if kind == TEXT:
            return _tagged(b"T", str(value).encode())
        return _tagged(b"I", str(value).encode())
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Decimal):
        return _float(float(value)) if not value == value.to_integral_value() \
            else _tagged(b"I", str(int(value)).encode())
    if isinstance(value, datetime):
        text = (value.astimezone(UTC) if value.tzinfo else value).isoformat(timespec="seconds")
        return _tagged(b"T", text.encode())
    if isinstance(value, date):
        return _tagged(b"T", value.isoformat().encode())
    if isinstance(value, bytes | bytearray | memoryview):
        return _tagged(b"B", bytes(value))
    if isinstance(value, str):
        if kind == TIME:
            try:
                parsed_time = datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                return canonical(parsed_time)
        if kind == BOOL and value in ("0", "1"):
            return _tagged(b"I", value.encode())
        return _tagged(b"T", value.encode("utf-8", "surrogatepass"))
    if isinstance(value, dict | list):
        return canonical(json.dumps(value), JSON)
    raise TypeError(f"cannot compare a {type(value).__name__} value")


class TableChecksum:
    """Running SHA-256 over canonical rows (fed in primary-key order)."""

    def __init__(self, kinds: Sequence[str]) -> None:
        self.kinds = list(kinds)
        self.rows = 0
        self._hash = hashlib.sha256()

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        kinds = self.kinds
        update = self._hash.update
        for row in rows:
            update(b"".join(canonical(v, k) for v, k in zip(row, kinds, strict=True)) + b"\n")
            self.rows += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


# --------------------------------------------------------------------------- endpoints

@dataclass
class Column:
    name: str
    kind: str
    generated: bool = False


@dataclass
class Table:
    name: str
    columns: list[Column]
    primary_key: list[str]
    references: set[str] = field(default_factory=set)   # tables it has foreign keys to
    self_references: list[str] = field(default_factory=list)   # columns naming its own rows

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


class Endpoint(Protocol):
    dialect: str
    label: str

    async def open(self, *, writable: bool) -> None: ...
    async def close(self) -> None: ...
    async def schema_version(self) -> int: ...
    async def tables(self) -> dict[str, Table]: ...
    async def count(self, table: str) -> int: ...
    def stream(self, table: Table, columns: Sequence[str]
               ) -> AsyncIterator[list[tuple[Any, ...]]]: ...
    async def begin_write(self) -> None: ...
    async def delete_all(self, table: str) -> None: ...
    async def set_value(self, table: Table, column: str, key: Any, value: Any) -> None: ...
    async def insert(self, table: Table, columns: Sequence[str],
                     rows: list[tuple[Any, ...]]) -> None: ...
    async def before_copy(self) -> list[str]: ...
    async def after_copy(self, tables: Sequence[Table]) -> list[str]: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


def q(name: str) -> str:
    """Quote an identifier (both engines use SQL's double quotes)."""
    return '"' + name.replace('"', '""') + '"'


class SqliteEndpoint:
    dialect = "sqlite"

    def __init__(self, path: str, label: str) -> None:
        self.path = path
        self.label = label
        self._conn: aiosqlite.Connection | None = None
        self._exists = Path(path).is_file()
        self._read_only_uri = Path(path).resolve().as_uri() + "?mode=ro"

    @property
    def conn(self) -> aiosqlite.Connection:
        assert self._conn is not None
        return self._conn

    async def open(self, *, writable: bool) -> None:
        if not self._exists:
            what = "target" if writable else "source"
            hint = (" (create and migrate it first: DATABASE_URL=sqlite:///"
                    f"{self.path} python -m bot migrate)") if writable else ""
            raise CopyRefused(f"{what} database does not exist: {self.path}{hint}")
        if writable:
            self._conn = await aiosqlite.connect(self.path, isolation_level=None)
            await self.conn.execute("PRAGMA foreign_keys=ON")
            await self.conn.execute("PRAGMA busy_timeout=5000")
            await self.conn.execute("PRAGMA cache_size=-200000")
        else:
            self._conn = await aiosqlite.connect(self._read_only_uri, uri=True,
                                                 isolation_level=None)
            await self.conn.execute("PRAGMA busy_timeout=5000")
            # One snapshot for every table read from here on (WAL readers see a fixed state).
            await self.conn.execute("BEGIN")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def schema_version(self) -> int:
        rows = list(await self.conn.execute_fetchall("PRAGMA user_version"))
        return int(rows[0][0])

    async def tables(self) -> dict[str, Table]:
        master = list(await self.conn.execute_fetchall(
            "SELECT name, type, coalesce(sql, '') FROM sqlite_master "
            "WHERE type = 'table' ORDER BY name"))
        virtual = [str(r[0]) for r in master if str(r[2]).upper().startswith("CREATE VIRTUAL")]
        found: dict[str, Table] = {}
        for row in master:
            name = str(row[0])
            if name.startswith("sqlite_") or name in virtual or name in LOCAL_TABLES \
                    or any(name.startswith(v + "_") for v in virtual):
                continue
            info = list(await self.conn.execute_fetchall(f"PRAGMA table_xinfo({q(name)})"))
            # hidden: 1 a virtual table's column, 2 and 3 generated columns
            columns = [Column(str(c[1]), sqlite_kind(str(c[2] or "")),
                              generated=int(c[6]) in (2, 3))
                       for c in info if int(c[6]) != 1]
            pk = [str(c[1]) for c in sorted((c for c in info if int(c[5]) > 0),
                                            key=lambda c: int(c[5]))]
            fks = await self.conn.execute_fetchall(f"PRAGMA foreign_key_list({q(name)})")
            found[name] = Table(name, columns, pk, {str(f[2]) for f in fks},
                                [str(f[3]) for f in fks if str(f[2]) == name])
        return found

    async def count(self, table: str) -> int:
        rows = list(await self.conn.execute_fetchall(f"SELECT count(*) FROM {q(table)}"))
        return int(rows[0][0])

    async def stream(self, table: Table, columns: Sequence[str]
                     ) -> AsyncIterator[list[tuple[Any, ...]]]:
        order = ", ".join(q(c) for c in table.primary_key) or "rowid"
        sql = f"SELECT {', '.join(q(c) for c in columns)} FROM {q(table.name)} ORDER BY {order}"
        async with self.conn.execute(sql) as cursor:
            while True:
                chunk = await cursor.fetchmany(CHUNK_ROWS)
                if not chunk:
                    return
                yield [tuple(r) for r in chunk]

    async def begin_write(self) -> None:
        await self.conn.execute("BEGIN IMMEDIATE")
        # Checked at COMMIT: a ticket may name a duplicate_of with a larger id.
        await self.conn.execute("PRAGMA defer_foreign_keys=ON")

    async def delete_all(self, table: str) -> None:
        await self.conn.execute(f"DELETE FROM {q(table)}")

    async def set_value(self, table: Table, column: str, key: Any, value: Any) -> None:
        pk = table.primary_key[0]
        await self.conn.execute(f"UPDATE {q(table.name)} SET {q(column)} = ? WHERE {q(pk)} = ?",
                                (_to_sqlite(value), key))

    async def insert(self, table: Table, columns: Sequence[str],
                     rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns)
        await self.conn.executemany(
            f"INSERT INTO {q(table.name)} ({', '.join(q(c) for c in columns)}) VALUES ({marks})",
            [tuple(_to_sqlite(v) for v in row) for row in rows])

    async def _fts_tables(self) -> list[tuple[str, bool]]:
        """(name, contentless) of every FTS5 table."""
        rows = await self.conn.execute_fetchall(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
            "AND upper(sql) LIKE 'CREATE VIRTUAL TABLE%USING FTS5%'")
        return [(str(r[0]), bool(re.search(r"content\s*=\s*''", str(r[1]), re.I)))
                for r in rows]

    async def before_copy(self) -> list[str]:
        notes = []
        for name, contentless in await self._fts_tables():
            if contentless:
                # Emptied now; the tickets' insert trigger indexes every copied row again.
                await self.conn.execute(f"INSERT INTO {q(name)}({q(name)}) VALUES ('delete-all')")
                notes.append(f"search index {name}: emptied, rebuilt by the copy's inserts")
        return notes

    async def after_copy(self, tables: Sequence[Table]) -> list[str]:
        notes = []
        for name, contentless in await self._fts_tables():
            if not contentless:
                await self.conn.execute(f"INSERT INTO {q(name)}({q(name)}) VALUES ('rebuild')")
                notes.append(f"search index {name}: rebuilt")
        return notes

    async def commit(self) -> None:
        await self.conn.execute("COMMIT")

    async def rollback(self) -> None:
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")


def _to_sqlite(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str | bytes):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class PostgresEndpoint:
    dialect = "postgresql"

    def __init__(self, url: DatabaseUrl, label: str) -> None:
        self.url = url
        self.dsn = url.dsn
        self.label = label
        self._conn: Any = None
        self._tx: Any = None
        self._kinds: dict[tuple[str, str], str] = {}

    @property
    def conn(self) -> Any:
        assert self._conn is not None
        return self._conn

    async def open(self, *, writable: bool) -> None:
        import asyncpg

        try:
            self._conn = await asyncpg.connect(
                self.dsn, timeout=30, server_settings={"application_name": "mahalleyar copy-db"})
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            reason = mask_password(_one_line(exc), self.url)
            raise CopyRefused(f"cannot connect to the {self.label}: {reason}") from None
        if writable and (holder := await self.leader()):
            await self.close()
            raise CopyRefused(f"a bot leads on the {self.label} ({holder}); stop the bots "
                              "first")
        if not writable:
            self._tx = self.conn.transaction(isolation="repeatable_read", readonly=True)
            await self._tx.start()

    async def leader(self) -> str | None:
        """The holder of a live leadership lease (bot/ops/leader.py), if any."""
        if not await self.conn.fetchval("SELECT to_regclass('leader_lease') IS NOT NULL"):
            return None
        holder = await self.conn.fetchval(
            "SELECT holder FROM leader_lease WHERE expires_at > now() LIMIT 1")
        return None if holder is None else str(holder)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def schema_version(self) -> int:
        from storage.pg import _schema_version

        return await _schema_version(self.conn)

    async def tables(self) -> dict[str, Table]:
        rows = await self.conn.fetch("""
            SELECT c.relname AS table, a.attname AS column,
                   format_type(a.atttypid, a.atttypmod) AS type,
                   a.attgenerated <> '' AS generated
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
            ORDER BY c.relname, a.attnum""")
        found: dict[str, Table] = {}
        for r in rows:
            if r["table"] in LOCAL_TABLES:
                continue
            table = found.setdefault(r["table"], Table(r["table"], [], []))
            table.columns.append(Column(r["column"], pg_kind(r["type"]), bool(r["generated"])))
        keys = await self.conn.fetch("""
            SELECT c.conrelid::regclass::text AS table, c.contype AS type,
                   c.confrelid::regclass::text AS ref,
                   array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                         ORDER BY k.i) AS columns
            FROM pg_constraint c
            JOIN pg_namespace n ON n.oid = c.connamespace
            WHERE n.nspname = current_schema() AND c.contype IN ('p', 'f')""")
        for k in keys:
            table_name = k["table"].strip('"')
            if table_name not in found:
                continue
            if k["type"] == "p":
                found[table_name].primary_key = list(k["columns"])
            else:
                ref = k["ref"].strip('"')
                found[table_name].references.add(ref)
                if ref == table_name:
                    found[table_name].self_references.extend(k["columns"])
        return found

    async def count(self, table: str) -> int:
        return int(await self.conn.fetchval(f"SELECT count(*) FROM {q(table)}"))

    async def stream(self, table: Table, columns: Sequence[str]
                     ) -> AsyncIterator[list[tuple[Any, ...]]]:
        # Text keys in code-point order, as SQLite's BINARY collation sorts them.
        order = ", ".join(q(c) + (' COLLATE "C"' if table.column(c).kind == TEXT else "")
                          for c in table.primary_key) or "ctid"
        sql = f"SELECT {', '.join(q(c) for c in columns)} FROM {q(table.name)} ORDER BY {order}"
        cursor = await self.conn.cursor(sql)
        while True:
            chunk = await cursor.fetch(CHUNK_ROWS)
            if not chunk:
                return
            yield [tuple(r) for r in chunk]

    async def begin_write(self) -> None:
        self._tx = self.conn.transaction()
        await self._tx.start()

    async def delete_all(self, table: str) -> None:
        await self.conn.execute(f"DELETE FROM {q(table)}")

    async def set_value(self, table: Table, column: str, key: Any, value: Any) -> None:
        pk = table.primary_key[0]
        await self.conn.execute(f"UPDATE {q(table.name)} SET {q(column)} = $1 WHERE {q(pk)} = $2",
                                _pg_converter(table.column(column).kind)(value), key)

    async def insert(self, table: Table, columns: Sequence[str],
                     rows: list[tuple[Any, ...]]) -> None:
        convert = [_pg_converter(table.column(c).kind) for c in columns]
        records = [tuple(f(v) for f, v in zip(convert, row, strict=True)) for row in rows]
        await self.conn.copy_records_to_table(table.name, records=records, columns=list(columns))

    async def before_copy(self) -> list[str]:
        return []

    async def after_copy(self, tables: Sequence[Table]) -> list[str]:
        notes = []
        for table in tables:
            for column in table.columns:
                seq = await self.conn.fetchval("SELECT pg_get_serial_sequence($1, $2)",
                                               q(table.name), column.name)
                if seq is None:
                    continue
                top = await self.conn.fetchval(
                    f"SELECT max({q(column.name)}) FROM {q(table.name)}")
                await self.conn.execute("SELECT setval($1::regclass, $2, $3)",
                                        seq, int(top) if top is not None else 1, top is not None)
                if top is not None:
                    notes.append(f"sequence {table.name}.{column.name}: next value {int(top) + 1}")
        await self.conn.execute("ANALYZE")
        return notes

    async def commit(self) -> None:
        await self._tx.commit()
        self._tx = None

    async def rollback(self) -> None:
        if self._tx is not None:
            await self._tx.rollback()
            self._tx = None


def _pg_converter(kind: str) -> Callable[[Any], Any]:
    """asyncpg's binary COPY wants each column's own Python type."""
    def convert(value: Any) -> Any:
        if value is None:
            return None
        if kind == INT:
            return int(value)
        if kind == FLOAT:
            return float(value)
        if kind == BOOL:
            return bool(int(value)) if not isinstance(value, str) else value in ("1", "t", "true")
        if kind == TEXT:
            return value if isinstance(value, str) else str(value)
        if kind == JSON:
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if kind == BYTES:
            return bytes(value) if not isinstance(value, str) else value.encode()
        if kind == TIME and isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return value
    return convert


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _same(one: Endpoint, other: Endpoint) -> bool:
    if isinstance(one, SqliteEndpoint) and isinstance(other, SqliteEndpoint):
        return Path(one.path).resolve() == Path(other.path).resolve()
    if isinstance(one, PostgresEndpoint) and isinstance(other, PostgresEndpoint):
        a, b = one.url, other.url
        return (a.host, a.port or 5432, a.database) == (b.host, b.port or 5432, b.database)
    return False


def _database_error(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.Error):
        return True
    try:
        import asyncpg
    except ImportError:
        return False
    return isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError)


def endpoint(url: str, role: str) -> Endpoint:
    parsed = parse_url(url)
    label = f"{role} {parsed.safe}"
    if parsed.dialect == "sqlite":
        return SqliteEndpoint(parsed.path, label)
    return PostgresEndpoint(parsed, label)


# ------------------------------------------------------------------------------- copy

@dataclass
class TableResult:
    name: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def ok(self) -> bool:
        return (self.source_rows == self.target_rows
                and self.source_checksum == self.target_checksum)


@dataclass
class CopyResult:
    tables: list[TableResult]
    notes: list[str]
    seconds: float
    committed: bool

    @property
    def ok(self) -> bool:
        return self.committed and all(t.ok for t in self.tables)


def foreign_key_order(tables: dict[str, Table]) -> list[Table]:
    """Parents before children (a table's own self-reference ignored); ties by name."""
    done: list[Table] = []
    placed: set[str] = set()
    pending = dict(sorted(tables.items()))
    while pending:
        ready = [t for t in pending.values()
                 if all(r in placed or r == t.name or r not in tables for r in t.references)]
        if not ready:       # a cycle: keep going, the target checks foreign keys at commit
            ready = [next(iter(pending.values()))]
        for table in ready:
            done.append(table)
            placed.add(table.name)
            del pending[table.name]
    return done


async def seeded_counts(version: int) -> dict[str, int]:
    """Rows a freshly migrated database of this version holds (the migrations' own inserts,
    e.g. the default canned replies): a target holding only these counts as empty."""
    from storage.db import _split_sql, migration_files

    conn = sqlite3.connect(":memory:")
    try:
        for number, _name, sql in migration_files():
            if number > version:
                break
            for statement in _split_sql(sql):
                conn.execute(statement)
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {n: conn.execute(f"SELECT count(*) FROM {q(n)}").fetchone()[0] for n in names}
    finally:
        conn.close()


async def plan(source: Endpoint, target: Endpoint, replace: bool
               ) -> tuple[list[tuple[Table, list[str], list[str]]], list[str]]:
    """[(target table, columns, kinds)] in foreign-key order, and notes; refuses what
    cannot be copied faithfully."""
    source_version = await source.schema_version()
    target_version = await target.schema_version()
    if source_version != target_version:
        raise CopyRefused(
            f"schema versions differ: source {source_version}, target {target_version}; "
            f"migrate the target to {source_version} first (python -m bot migrate)"
            if target_version < source_version else
            f"schema versions differ: source {source_version}, target {target_version}; "
            "migrate the source first, or copy into a target at the source's version")
    src_tables, dst_tables = await source.tables(), await target.tables()
    notes: list[str] = []
    steps = []
    for table in foreign_key_order(dst_tables):
        src = src_tables.get(table.name)
        if src is None:
            notes.append(f"table {table.name}: only on the target, left as it is")
            continue
        wanted = [c for c in table.columns if not c.generated]
        have = {c.name: c for c in src.columns}
        missing = [c.name for c in wanted if c.name not in have]
        if missing:
            raise CopyRefused(f"table {table.name}: the source has no column {', '.join(missing)}"
                              " (are both migrated from the same code?)")
        dropped = [c.name for c in src.columns
                   if not c.generated and c.name not in {w.name for w in wanted}]
        if dropped:
            raise CopyRefused(f"table {table.name}: the target has no column "
                              f"{', '.join(dropped)} (its data would be lost)")
        if not table.primary_key:
            table.primary_key = src.primary_key
        kinds = [merge_kinds(have[c.name].kind, c.kind) for c in wanted]
        steps.append((table, [c.name for c in wanted], kinds))
    for name in sorted(set(src_tables) - set(dst_tables)):
        rows = await source.count(name)
        if rows:
            raise CopyRefused(f"table {name} ({rows} rows) exists only on the source")
        notes.append(f"table {name}: only on the source, empty, skipped")
    if not replace:
        seeded = await seeded_counts(target_version)
        for table, _, _ in steps:
            rows = await target.count(table.name)
            if rows > seeded.get(table.name, 0):
                raise CopyRefused(f"target is not empty (table {table.name} has {rows:,} rows); "
                                  "give --replace to delete its rows first")
    return steps, notes


async def copy_database(source_url: str, target_url: str, *, replace: bool = False,
                        progress: Progress | None = None) -> CopyResult:
    """Copy, verify, commit (or roll back on a mismatch). Raises CopyRefused before writing."""
    say = progress or (lambda _line: None)
    started = time.perf_counter()
    source = endpoint(source_url, "source")
    target = endpoint(target_url, "target")
    if _same(source, target):
        raise CopyRefused("source and target are the same database")
    await source.open(writable=False)
    try:
        await target.open(writable=True)
        try:
            return await _copy(source, target, replace, say, started)
        except (CopyRefused, CopyFailed):
            raise
        except Exception as exc:
            if not _database_error(exc):
                raise
            raise CopyFailed(_one_line(exc)) from exc
        finally:
            await target.close()
    finally:
        await source.close()


async def _copy(source: Endpoint, target: Endpoint, replace: bool, say: Progress,
                started: float) -> CopyResult:
    steps, notes = await plan(source, target, replace)
    await target.begin_write()
    try:
        for table, _, _ in reversed(steps):
            await target.delete_all(table.name)
        notes += await target.before_copy()
        checks: dict[str, TableChecksum] = {}
        for table, columns, kinds in steps:
            checks[table.name] = await _copy_table(source, target, table, columns, kinds, say)
        notes += await target.after_copy([t for t, _, _ in steps])
        results = []
        for table, columns, kinds in steps:
            before = checks[table.name]
            after = TableChecksum(kinds)
            began = last = time.perf_counter()
            async for chunk in target.stream(table, columns):
                after.add(chunk)
                now = time.perf_counter()
                if before.rows >= PROGRESS_ROWS and now - last >= PROGRESS_SECONDS:
                    say(f"  verifying {table.name}: {after.rows:,} / {before.rows:,} rows "
                        f"({now - began:.0f} s)")
                    last = now
            results.append(TableResult(table.name, before.rows, after.rows,
                                       before.hexdigest(), after.hexdigest()))
        if all(r.ok for r in results):
            await target.commit()
            committed = True
        else:
            await target.rollback()
            committed = False
            notes.append("the target was rolled back: it is as it was before the copy")
    except BaseException:
        await target.rollback()
        raise
    return CopyResult(results, notes, time.perf_counter() - started, committed)


async def _copy_table(source: Endpoint, target: Endpoint, table: Table, columns: list[str],
                      kinds: list[str], say: Progress) -> TableChecksum:
    total = await source.count(table.name)
    check = TableChecksum(kinds)
    began = last = time.perf_counter()
    # A row may name a row of its own table that comes later (a ticket marked a duplicate of
    # a newer one): such a value is inserted as NULL and set once the table is copied, so no
    # foreign key is ever checked against a row that is not there yet (PostgreSQL checks at
    # once; SQLite's are deferred to the commit anyway).
    forward = [(columns.index(c), c) for c in table.self_references if c in columns] \
        if len(table.primary_key) == 1 and table.primary_key[0] in columns else []
    key_at = columns.index(table.primary_key[0]) if forward else 0
    later: list[tuple[str, Any, Any]] = []
    async for chunk in source.stream(table, columns):
        check.add(chunk)
        if forward:
            chunk = _hold_forward_references(chunk, key_at, forward, later)
        await target.insert(table, columns, chunk)
        now = time.perf_counter()
        if total >= PROGRESS_ROWS and (now - last >= PROGRESS_SECONDS or check.rows == total):
            say(f"  {table.name}: {check.rows:,} / {total:,} rows ({now - began:.0f} s)")
            last = now
    for column, key, value in later:
        await target.set_value(table, column, key, value)
    return check


def _hold_forward_references(chunk: list[tuple[Any, ...]], key_at: int,
                             forward: list[tuple[int, str]],
                             later: list[tuple[str, Any, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for row in chunk:
        key = row[key_at]
        held = [(i, c) for i, c in forward if row[i] is not None and row[i] > key]
        if held:
            values = list(row)
            for i, column in held:
                later.append((column, key, row[i]))
                values[i] = None
            row = tuple(values)
        out.append(row)
    return out


def report_lines(result: CopyResult) -> list[str]:
    """The verification as a table, one line per table, then a verdict."""
    width = max([len(t.name) for t in result.tables] + [5])
    lines = [f"{'table':<{width}}  {'source rows':>11}  {'target rows':>11}  "
             f"{'source checksum':<16}  {'target checksum':<16}  "]
    for t in result.tables:
        lines.append(f"{t.name:<{width}}  {t.source_rows:>11,}  {t.target_rows:>11,}  "
                     f"{t.source_checksum[:16]:<16}  {t.target_checksum[:16]:<16}  "
                     f"{'ok' if t.ok else 'MISMATCH'}")
    return lines
