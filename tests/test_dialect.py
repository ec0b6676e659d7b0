"""storage.dialect: the SQL the two engines cannot share, and the same answers from both.

The search checks run on both backends (conftest's `database_url`): the same tickets, the
same queries (Persian spellings, digits, ZWNJ, LIKE's wildcards, short words, wide and small
scopes), the same results, whether SQLite's FTS5 table or PostgreSQL's trigram index serves
them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from types import SimpleNamespace

import pytest

from bot.domain.text import normalize
from storage import dialect, people, reports, sla_queries
from storage import tickets as repo
from storage.backends import database_for
from storage.base import fetch_value, iso
from storage.db import Database
from storage.staff_queries import Area, search_text

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _migration(folder: str, name: str) -> str:
    return resources.files(f"storage.{folder}").joinpath(name).read_text(encoding="utf-8")


def _decoded(sql: str) -> str:
    return re.sub(r"U&'\\([0-9A-F]{4})'", lambda m: f"'{chr(int(m.group(1), 16))}'", sql)


def test_postgresql_search_column_is_the_folded_text_and_indexed() -> None:
    """PostgreSQL's search compares tickets.search_text (storage.dialect.SEARCH_COLUMN): a
    generated column of exactly the folding SQLite's FTS trigger applies, with the trigram
    index on it (the planner uses the index only for exactly the column the search filters)."""
    sql = _migration("migrations_pg", "0009_search_text.sql")
    column = re.search(r"ALTER TABLE tickets ADD COLUMN search_text TEXT COLLATE \"C\"\s+"
                       r"GENERATED ALWAYS AS \((.*)\) STORED;", sql)
    assert column is not None
    assert _decoded(column.group(1)) == dialect.folded("text")
    index = re.search(r"CREATE INDEX tickets_search_trgm ON tickets USING gin \(\((.*)\) "
                      r"gin_trgm_ops\);", sql)
    assert index is not None
    assert _decoded(index.group(1)) == dialect.INDEXED_COLUMN.replace("t.search_text",
                                                                      "search_text")
    assert dialect.SEARCH_COLUMN == "t.search_text"
    assert dialect.searched_text(SimpleNamespace(dialect="postgresql")) == "t.search_text"
    assert dialect.searched_text(SimpleNamespace(dialect="sqlite")) == dialect.FOLDED_TEXT


def test_postgresql_0002_index_was_over_the_same_expression() -> None:
    """0002's expression index (dropped by 0009) folded alike: a database migrated through
    both never searched differently."""
    sql = _migration("migrations_pg", "0002_staff.sql")
    index = re.search(r"CREATE INDEX tickets_text_trgm ON tickets USING gin \(\((.*)\) "
                      r"gin_trgm_ops\);", sql)
    assert index is not None
    assert _decoded(index.group(1)) == dialect.folded("text")


def test_sqlite_fts_trigger_folds_like_the_search() -> None:
    sql = _migration("migrations", "0002_staff.sql")
    trigger = sql[sql.index("CREATE TRIGGER tickets_fts_insert"):sql.index("END;")]
    trigger = trigger.replace("char(8204)", "'\u200c'").replace("char(1600)", "'\u0640'")
    assert re.findall(r"'([^']*)', '([^']*)'", trigger) == dialect.FOLDS
    assert dialect.folded("t.text").startswith("lower(") and "lower(" in trigger


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_one_place_per_concern_spells_each_engine(engine: str) -> None:
    conn = SimpleNamespace(dialect=engine)
    pg = engine == "postgresql"
    assert dialect.same(conn, "a", "b") == ("a IS NOT DISTINCT FROM b" if pg else "a IS b")
    assert dialect.differs(conn, "a", "b") == ("a IS DISTINCT FROM b" if pg else "a IS NOT b")
    assert ("INDEXED BY" in dialect.indexed_by(conn, "x")) is not pg
    assert ("extract(epoch" in dialect.epoch_seconds(conn, "c")) is pg
    assert ("jsonb_set" in dialect.json_set_number(conn, "p", "_parts_sent")) is pg
    with pytest.raises(ValueError):
        dialect.json_set_number(conn, "p", "a'); DROP TABLE x; --")
    assert dialect.name(object()) == "sqlite"          # a bare aiosqlite connection


def test_like_pattern_escapes_wildcards() -> None:
    assert dialect.like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


# ----------------------------------------------------------------------------- both engines

TEXTS = [
    "لوله آشپزخانه چكه مي‌کند",                  # Arabic kaf/yeh, ZWNJ
    "سقف خانهٔ زهرا چکه می کند",
    "پلاک ۱۲ کوچه ۳ برق ندارد",                    # Persian digits
    "تخفیف 50% برای_داروها",                       # LIKE's wildcards, literally
    "Water PIPE broken",                            # ASCII case
    "کمک هزینه درمان",
]


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = database_for(database_url)
    await database.open()
    async with database.tx() as conn:
        for sql in (
                "INSERT INTO provinces(id, code, name_fa, name_en) VALUES (1, 'p', 'پ', 'P')",
                "INSERT INTO cities(id, province_id, code, name_fa, name_en) "
                "VALUES (1, 1, 'c', 'ش', 'C')",
                "INSERT INTO houses(id, code, name_fa, name_en) VALUES (1, 'h1', 'خ۱', 'H1'), "
                "(2, 'h2', 'خ۲', 'H2')",
                "INSERT INTO categories(id, code, name_fa, name_en, default_house_id) "
                "VALUES (1, 'k', 'د', 'K', 1)"):
            await conn.execute(sql)
        for n in range(1, 7):
            await conn.execute("INSERT INTO neighbourhoods(id, city_id, code, name_fa, name_en, "
                               "search_key) VALUES (?, 1, ?, ?, ?, ?)",
                               (n, f"N{n}", f"م{n}", f"n{n}", f"m{n}"))
        await people.ensure_person(conn, 9_000_000_001, NOW)     # beyond 32 bits
        for i, text in enumerate(TEXTS):
            await repo.insert(conn, code=f"T{i}", resident_id=9_000_000_001,
                              neighbourhood_id=1 + i % 6, kind=repo.Kind.NEED, category_id=1,
                              house_id=1 + i % 2, text=text, phone=None, lat=35.7, lon=51.4,
                              now=NOW + timedelta(minutes=i), due_at=NOW + timedelta(days=3),
                              sla_next_at=NOW + timedelta(days=2))
    try:
        yield database
    finally:
        await database.close()


WIDE = [Area(None, None)]
SMALL = [Area(1, (1, 3, 5)), Area(2, (2, 4, 6))]


@pytest.mark.parametrize("scope", [WIDE, SMALL], ids=["wide", "small"])
@pytest.mark.parametrize(("query", "expected"), [
    ("آشپزخانه", ["T0"]),
    ("چکه میکند", []),
    ("چکه می کند", ["T1", "T0"]),
    ("۱۲", ["T2"]),
    ("50%", ["T3"]),
    ("_دارو", ["T3"]),
    ("%", ["T3"]),
    ("pipe", ["T4"]),
    ("ک", ["T5", "T2", "T1", "T0"]),
    ("نیست", []),
])
async def test_search_gives_the_same_answers_on_both(db: Database, scope: list[Area],
                                                     query: str, expected: list[str]) -> None:
    async with db.read() as conn:
        found = await search_text(conn, scope, normalize(query), since=NOW - timedelta(days=1),
                                  limit=20)
    codes = [t.code for t in found]
    # The index serves the wide scope newest id first; the small scope's scan newest first.
    assert codes == expected


async def test_big_ids_json_and_epochs_on_both(db: Database) -> None:
    async with db.tx() as conn:
        person, roles = await people.arrive(conn, 9_000_000_001, "زهرا", None, NOW)
        assert person.id == 9_000_000_001 and roles == []
        await people.add_role(conn, 9_000_000_001, "staff", house_id=1,
                              scope_kind="neighbourhood", scope_id=1, created_by=None, now=NOW)
        _, roles = await people.arrive(conn, 9_000_000_001, "زهرا", None, NOW)
        assert [(r.role, r.scope_id) for r in roles] == [("staff", 1)]
        message = await fetch_value(conn, """INSERT INTO outbox(idem_key, chat_id, kind,
            payload, not_before, created_at) VALUES ('k', -1001234567890, 'x', '{"a": 1}', ?, ?)
            RETURNING id""", (iso(NOW), iso(NOW)))
        from storage import outbox

        await outbox.mark_part_sent(conn, int(message), 2)
        payload = await fetch_value(conn, "SELECT payload FROM outbox WHERE id = ?", (message,))
        import json

        assert json.loads(payload) == {"a": 1, "_parts_sent": 2}
        await repo.update(conn, 1, first_response_at=NOW + timedelta(hours=5))
        due = await sla_queries.due_tickets(conn, NOW + timedelta(days=3), 10)
        assert [t.code for t in due] == [f"T{i}" for i in range(len(TEXTS))]
    async with db.report() as conn:
        medians = await reports.median_first_response(conn, WIDE, NOW - timedelta(days=1),
                                                      NOW + timedelta(days=1))
    assert medians[(None, None)] == 5 * 3600.0
