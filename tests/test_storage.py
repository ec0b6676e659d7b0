"""Migrations and repositories against a real database: a SQLite file and a PostgreSQL
database (the `database_url` fixture, ids `sqlite` / `postgresql`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.services.reference import load_reference
from storage import outbox, people, places, updates
from storage.backends import database_for
from storage.db import Database, migration_files
from tests.pg_server import PgServer


async def test_migrate_from_empty_then_rerun_is_a_no_op(tmp_path: Path) -> None:
    """SQLite by nature: user_version, WAL and foreign_keys are the file's."""
    path = tmp_path / "m.sqlite3"
    db = Database(path)
    await db.open()
    version = await db.migrate()
    assert version == len(migration_files())
    await db.close()
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"tickets", "ticket_events", "outbox", "roles", "processed_updates",
                "conversations"} <= tables
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db = Database(path)
    await db.open()   # runs migrate again: nothing to do, no error
    assert await db.migrate() == version
    async with db.read() as conn:
        async with conn.execute("PRAGMA foreign_keys") as cur:
            row = await cur.fetchone()
            assert row is not None and row[0] == 1
    await db.close()


async def test_postgresql_migrates_from_empty_then_rerun_is_a_no_op(pg_server: PgServer
                                                                   ) -> None:
    url = await pg_server.empty_database()
    try:
        db = database_for(url)
        await db.open()
        version = await db.migrate()
        assert version == len(migration_files("postgresql")) == await db.schema_version()
        async with db.read() as conn:
            tables = {r[0] for r in await conn.execute_fetchall(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()")}
        await db.close()
        if version:
            assert {"tickets", "ticket_events", "outbox", "roles", "processed_updates",
                    "conversations", "schema_version"} <= tables
        db = database_for(url)
        await db.open()   # runs migrate again: nothing to do, no error
        assert await db.migrate() == version
        await db.close()
    finally:
        await pg_server.drop(url)


async def test_failed_transaction_leaves_nothing(database_url: str) -> None:
    db = database_for(database_url)
    await db.open()
    clock = FakeClock()
    with pytest.raises(RuntimeError):
        async with db.tx() as conn:
            await people.upsert(conn, 1, "a", None, clock.now())
            raise RuntimeError("crash mid-transaction")
    async with db.read() as conn:
        assert await people.get(conn, 1) is None
    await db.close()


async def test_reference_data_loads_and_routes(database_url: str) -> None:
    db = database_for(database_url)
    await db.open()
    await load_reference(db)
    await load_reference(db)  # idempotent
    async with db.read() as conn:
        provinces = await places.provinces(conn)
        assert len(provinces) == 31
        amol = await places.neighbourhood_by_code(conn, "aml01")
        assert amol is not None and amol.name_fa == "اسپیاری"
        housing = await places.category_by_code(conn, "housing")
        welfare = await places.house_by_code(conn, "welfare")
        ehsan = await places.house_by_code(conn, "ehsan")
        assert housing and welfare and ehsan
        semnan = await places.neighbourhood_by_code(conn, "SEM01")
        assert semnan is not None
        # data/routing_overrides.csv sends housing in SEM01 to Ehsan instead of the default
        assert await places.house_for(conn, semnan.id, housing.id) == ehsan.id
        assert await places.house_for(conn, amol.id, housing.id) == housing.default_house_id
    await db.close()


async def test_update_ids_are_claimed_once_and_outbox_keys_are_unique(database_url: str) -> None:
    db = database_for(database_url)
    await db.open()
    now = FakeClock().now()
    async with db.tx() as conn:
        assert await updates.claim(conn, 42, now)
        assert not await updates.claim(conn, 42, now)
        assert await outbox.enqueue(conn, idem_key="k", chat_id=1, kind="x",
                                    payload={"text": "a"}, ticket_id=None, now=now)
        assert not await outbox.enqueue(conn, idem_key="k", chat_id=1, kind="x",
                                        payload={"text": "a"}, ticket_id=None, now=now)
        assert len(await outbox.due(conn, now, 10)) == 1
    await db.close()


async def test_housekeeping_forgets_only_old_update_ids(database_url: str) -> None:
    from datetime import timedelta

    from bot.config import Settings
    from bot.deps import Deps
    from bot.outbox import Outbox
    from bot.services.sla import housekeeping

    db = database_for(database_url)
    await db.open()
    clock = FakeClock()
    deps = Deps(settings=Settings(_env_file=None), db=db, clock=clock,  # type: ignore[call-arg]
                outbox=Outbox(db, clock))
    async with db.tx() as conn:
        await updates.claim(conn, 1, clock.now() - timedelta(days=8))
        await updates.claim(conn, 2, clock.now() - timedelta(days=1))
    assert await housekeeping(deps) == 1
    async with db.tx() as conn:
        assert await updates.claim(conn, 1, clock.now())        # forgotten: new again
        assert not await updates.claim(conn, 2, clock.now())    # still remembered
    await db.close()


async def test_in_person_template_names_the_house_office(database_url: str) -> None:
    """«دفتر خانه» read as a notary's office (دفترخانه); migration 0007 rewords the seed."""
    db = database_for(database_url)
    await db.open()
    try:
        async with db.read() as conn:
            async with conn.execute("SELECT body FROM canned_replies WHERE title = ?",
                                    ("مراجعه حضوری",)) as cur:
                row = await cur.fetchone()
    finally:
        await db.close()
    assert row is not None
    assert "دفتر خانهٔ رسیدگی‌کننده" in row[0] and "دفتر خانه در" not in row[0]
