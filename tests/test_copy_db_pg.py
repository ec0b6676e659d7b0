"""copy-db with PostgreSQL: the round trip SQLite → PostgreSQL → SQLite is equal by the
checksums (and by an independent dump), sequences continue past the copied ids, refusals.

Runs against the real server `tests/pg_server.py` starts for the test run; skipped with the
printed reason when no PostgreSQL binaries exist (CI installs them)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from bot.domain.text import normalize
from storage.copy import CopyRefused, copy_database
from storage.db import migration_files
from storage.dialect import folded
from tests.copydb_data import BIG_ID, TEXTS, migrated, realistic
from tests.pg_server import PgServer
from tests.test_copy_db import dump, url

LATEST = len(migration_files())


@pytest.fixture
async def source(tmp_path: Path) -> Path:
    return await realistic(tmp_path / "source.sqlite3")


async def test_round_trip_sqlite_postgresql_sqlite(source: Path, tmp_path: Path,
                                                   pg_url: str) -> None:
    there = await copy_database(url(source), pg_url)
    assert there.ok, [t for t in there.tables if not t.ok]
    back_path = await migrated(tmp_path / "back.sqlite3")
    back = await copy_database(pg_url, url(back_path))
    assert back.ok, [t for t in back.tables if not t.ok]
    # The same checksums on all three databases, table by table.
    first = {t.name: (t.source_rows, t.source_checksum) for t in there.tables}
    second = {t.name: (t.target_rows, t.target_checksum) for t in back.tables}
    assert first == second
    assert first["tickets"][0] == 40 and first["ticket_events"][0] == 50
    assert dump(back_path) == dump(source)


async def test_postgresql_target_continues_ids_and_keeps_big_ids(source: Path,
                                                                 pg_url: str) -> None:
    result = await copy_database(url(source), pg_url)
    assert result.ok
    conn = await asyncpg.connect(pg_url)
    try:
        assert await conn.fetchval("SELECT first_name FROM people WHERE id = $1", BIG_ID) == "رضا"
        new_id = await conn.fetchval(
            "INSERT INTO ticket_events(ticket_id, at, actor_role, action) "
            "VALUES (1, '2026-11-30T08:00:00+00:00', 'system', 'test') RETURNING id")
        assert new_id == 51
        text = await conn.fetchval("SELECT text FROM tickets WHERE id = 3")
        assert "كوچه" in text                   # Arabic letters kept as written
        # Search on the target: the trigram index's folded text finds it by Persian letters.
        found = await conn.fetch(f"SELECT id FROM tickets WHERE {folded('text')} LIKE $1 "
                                 "ORDER BY id", "%کوچه%")
        assert [r["id"] for r in found] == [
            i for i in range(1, 41) if "کوچه" in normalize(TEXTS[i % len(TEXTS)])]
    finally:
        await conn.close()


async def test_non_empty_postgresql_target_is_refused_unless_replace(
        source: Path, pg_url: str) -> None:
    assert (await copy_database(url(source), pg_url)).ok
    with pytest.raises(CopyRefused, match="not empty"):
        await copy_database(url(source), pg_url)
    again = await copy_database(url(source), pg_url, replace=True)
    assert again.ok


async def test_unmigrated_postgresql_target_is_refused(source: Path,
                                                       pg_server: PgServer) -> None:
    empty = await pg_server.empty_database()
    try:
        with pytest.raises(CopyRefused, match=f"schema versions differ: source {LATEST}, target 0"):
            await copy_database(url(source), empty)
    finally:
        await pg_server.drop(empty)


async def test_a_target_a_bot_leads_on_is_refused(source: Path, pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute("""CREATE TABLE IF NOT EXISTS leader_lease (id INTEGER PRIMARY KEY,
            holder TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
            backend_pid INTEGER NOT NULL, acquired_at TIMESTAMPTZ NOT NULL,
            renewed_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)""")
        await conn.execute("""INSERT INTO leader_lease VALUES (1, 'box:42:ab', 'box', 42,
            pg_backend_pid(), now(), now(), now() + interval '1 minute')""")
        with pytest.raises(CopyRefused, match=r"a bot leads on the target .*box:42:ab"):
            await copy_database(url(source), pg_url)
        await conn.execute("UPDATE leader_lease SET expires_at = now() - interval '1 second'")
        assert (await copy_database(url(source), pg_url)).ok     # an expired lease: no leader
    finally:
        await conn.close()
