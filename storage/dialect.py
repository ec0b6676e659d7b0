"""The SQL that SQLite and PostgreSQL cannot share, one function per concern.

Everything else in `storage/` is written once for both engines: `INSERT … ON CONFLICT`,
`RETURNING`, `count(*) FILTER (WHERE …)`, `COALESCE`, `NULLS FIRST`, times passed in from
Python as UTC ISO strings. What differs is chosen here by `conn.dialect` ("sqlite" or
"postgresql"):

- null-safe comparison (`IS` / `IS NOT DISTINCT FROM`);
- seconds since the epoch of a stored ISO timestamp (reports' medians);
- JSON: one key set in a JSON text column, rows aggregated into a JSON array;
- index hints (`INDEXED BY`, SQLite only);
- text search: SQLite's trigram FTS5 table `ticket_fts`, PostgreSQL's `pg_trgm` GIN index on
  the stored column `tickets.search_text` (migrations_pg/0009), both over the same folding of
  the text;
- reading a long result in chunks (a cursor: constant memory on both);
- identity columns after rows were copied in with their ids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from storage.conn import Conn

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def name(conn: Conn | object) -> str:
    """The connection's engine; a plain aiosqlite connection (no `dialect`) is SQLite."""
    return str(getattr(conn, "dialect", SQLITE))


def is_postgresql(conn: Conn | object) -> bool:
    return name(conn) == POSTGRESQL


# --------------------------------------------------------------------------- comparisons

def same(conn: Conn, left: str, right: str) -> str:
    """`left` equals `right`, NULL equal to NULL."""
    op = "IS NOT DISTINCT FROM" if is_postgresql(conn) else "IS"
    return f"{left} {op} {right}"


def differs(conn: Conn, left: str, right: str) -> str:
    """`left` differs from `right`, NULL equal to NULL."""
    op = "IS DISTINCT FROM" if is_postgresql(conn) else "IS NOT"
    return f"{left} {op} {right}"


# --------------------------------------------------------------------------- time

def epoch_seconds(conn: Conn, iso_column: str) -> str:
    """Seconds since 1970 of a column holding a UTC ISO string ("2026-11-25T21:36:40+00:00")."""
    if is_postgresql(conn):
        return f"extract(epoch FROM CAST({iso_column} AS timestamptz))"
    return f"unixepoch({iso_column})"


# --------------------------------------------------------------------------- JSON (stored as text)

def json_set_number(conn: Conn, column: str, key: str) -> str:
    """`column` (JSON object text) with `key` set to the number bound at the one `?`."""
    if not key.isidentifier():
        raise ValueError(f"not a plain JSON key: {key!r}")
    if is_postgresql(conn):
        return (f"CAST(jsonb_set(CAST({column} AS jsonb), '{{{key}}}', "
                f"to_jsonb(CAST(? AS bigint))) AS text)")
    return f"json_set({column}, '$.{key}', ?)"


def json_array_of_rows(conn: Conn, fields: list[tuple[str, str]], source: str,
                       order_by: str) -> str:
    """A scalar subquery: JSON array text of one object per row of `source` (a FROM clause
    with alias `x`), `fields` as (key, expression over x), ordered; NULL when no rows."""
    pairs = ", ".join(f"'{key}', {expr}" for key, expr in fields)
    if is_postgresql(conn):
        return (f"(SELECT CAST(json_agg(json_build_object({pairs}) ORDER BY {order_by}) "
                f"AS text) FROM {source})")
    # SQLite aggregates in the order of a sorted subquery.
    return (f"(SELECT json_group_array(json_object({pairs})) FROM "
            f"(SELECT * FROM {source} ORDER BY {order_by}) x)")


def json_object_of_row(conn: Conn, fields: list[tuple[str, str]], source: str) -> str:
    """A scalar subquery: JSON object text of the one row of `source` (a FROM clause with
    alias `x`), `fields` as (key, expression over x); NULL when there is no row."""
    pairs = ", ".join(f"'{key}', {expr}" for key, expr in fields)
    if is_postgresql(conn):
        return f"(SELECT CAST(json_build_object({pairs}) AS text) FROM {source})"
    return f"(SELECT json_object({pairs}) FROM {source})"


# --------------------------------------------------------------------------- planner hints

def indexed_by(conn: Conn, index: str) -> str:
    """SQLite's `INDEXED BY` (its planner otherwise sometimes scans); nothing on PostgreSQL."""
    return "" if is_postgresql(conn) else f" INDEXED BY {index}"


# --------------------------------------------------------------------------- text search
# The text is folded the way bot.domain.text.normalize folds it (Arabic letters, ZWNJ,
# digits, tatweel) and lowered (ASCII only: SQLite's lower(); PostgreSQL's columns are
# COLLATE "C", whose lower() does the same). SQLite's FTS trigger (migrations/0002) and
# PostgreSQL's generated column tickets.search_text (migrations_pg/0009, with the trigram
# index on it) are exactly this expression.

FOLDS = [("ي", "ی"), ("ى", "ی"), ("ئ", "ی"), ("ك", "ک"), ("ة", "ه"), ("ۀ", "ه"), ("أ", "ا"),
         ("إ", "ا"), ("آ", "ا"), ("ؤ", "و"), ("\u200c", " "),
         *zip("۰۱۲۳۴۵۶۷۸۹", "0123456789", strict=True), ("\u0640", "")]


def folded(column: str) -> str:
    """The folded, lowered text of `column`, as an SQL expression both engines evaluate alike."""
    expr = column
    for a, b in FOLDS:
        expr = f"replace({expr}, '{a}', '{b}')"
    return f"lower({expr})"


FOLDED_TEXT = folded("t.text")      # over tickets `t`
SEARCH_COLUMN = "t.search_text"     # PostgreSQL: FOLDED_TEXT, stored (computed when written)
MIN_INDEXED = 3                     # trigrams: shorter queries cannot use the index


def like_pattern(query: str) -> str:
    """`%query%` with LIKE's wildcards escaped (ESCAPE '\\')."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def searched_text(conn: Conn) -> str:
    """The folded text of a ticket `t` that a search compares: PostgreSQL's stored column
    (folding 22 times per row read cost ~3.6 µs a row), SQLite's expression (its index, the
    FTS5 table, holds the folded text by itself; a small scope's scan folds as it reads)."""
    return SEARCH_COLUMN if is_postgresql(conn) else FOLDED_TEXT


# PostgreSQL's trigram index is over the folded text with its spaces made a letter (pg_trgm
# splits text into words at anything not a letter or digit, so `%برق قطع%` would otherwise
# look up only the trigrams of each word: every text with both words anywhere is a candidate;
# joined, the trigrams across the space narrow it to texts with the phrase, as SQLite's FTS5
# trigrams do). The letter (U+01C2) is only for the index: the exact LIKE is on the column.
JOIN_LETTER = "\u01c2"
INDEXED_COLUMN = f"replace({SEARCH_COLUMN}, ' ', '{JOIN_LETTER}')"


def indexed_text_search(conn: Conn, scope: str, query: str) -> tuple[str, list[str]]:
    """(SQL, values of its first parameters) of a search of the whole index for `query`
    (normalised, 3+ characters), newest first, within `scope` (an SQL condition over `t`).
    The SQL's parameters, in order: those values, `scope`'s, `since`, `limit`."""
    if is_postgresql(conn):
        pattern = like_pattern(query)
        return (f"""SELECT t.* FROM tickets t
            WHERE {INDEXED_COLUMN} LIKE ? ESCAPE '\\' AND {SEARCH_COLUMN} LIKE ? ESCAPE '\\'
            AND {scope} AND t.created_at >= ?
            ORDER BY t.id DESC LIMIT ?""", [pattern.replace(" ", JOIN_LETTER), pattern])
    phrase = '"' + query.replace('"', '""') + '"'
    return (f"""SELECT t.* FROM ticket_fts f
            JOIN tickets t ON t.id = f.rowid
            WHERE ticket_fts MATCH ? AND {scope} AND t.created_at >= ?
            ORDER BY f.rowid DESC LIMIT ?""", [phrase])


def scoped_text_search(conn: Conn, scope: str) -> str:
    """SQL of a search that reads a small scope's recent tickets (index on house,
    neighbourhood, created_at) and compares each one's folded text, newest first. Its
    parameters, in order: `scope`'s, `since`, the LIKE pattern (`like_pattern`), `limit`."""
    if is_postgresql(conn):
        # OFFSET 0 keeps the LIKE out of the scope's subquery: otherwise the planner ANDs the
        # scope with the trigram index, whose lists are long for common words (a staff
        # member's neighbourhood at 1,000,000 tickets: 36 ms that way, 3 ms reading the scope).
        return f"""SELECT * FROM (SELECT t.* FROM tickets t WHERE {scope}
            AND t.created_at >= ? OFFSET 0) t WHERE {SEARCH_COLUMN} LIKE ? ESCAPE '\\'
            ORDER BY t.created_at DESC, t.id DESC LIMIT ?"""
    return f"""SELECT t.* FROM tickets t WHERE {scope}
            AND t.created_at >= ? AND {FOLDED_TEXT} LIKE ? ESCAPE '\\'
            ORDER BY t.created_at DESC, t.id DESC LIMIT ?"""


async def forget_indexed_text(conn: Conn, ticket_id: int) -> None:
    """Before a ticket's text is erased: drop it from the search index. SQLite's FTS table is
    contentless (a row is removed by giving back what was indexed); PostgreSQL's index is on
    a generated column, which follows the UPDATE."""
    if is_postgresql(conn):
        return
    await conn.execute(f"""
        INSERT INTO ticket_fts(ticket_fts, rowid, body)
        SELECT 'delete', t.id, {FOLDED_TEXT} FROM tickets t WHERE t.id = ?""", (ticket_id,))


# --------------------------------------------------------------------------- long results

async def stream_rows(conn: Conn, sql: str, params: Any, chunk: int) -> AsyncIterator[list[Any]]:
    """The rows of a query, `chunk` at a time, without holding them all: SQLite's cursor;
    on PostgreSQL a server-side cursor (in a read-only transaction of its own, or a
    savepoint when one is open)."""
    if is_postgresql(conn):
        from storage.pg import bind  # asyncpg only where PostgreSQL is used

        text, args = bind(sql, params)
        raw = conn.raw      # type: ignore[attr-defined]  # storage.pg.PgConn
        async with raw.transaction(readonly=not conn.in_transaction):
            cursor = await raw.cursor(text, *args)
            while rows := await cursor.fetch(chunk):
                yield list(rows)
        return
    async with conn.execute(sql, params) as cursor:
        while rows := await cursor.fetchmany(chunk):
            yield list(rows)
