"""The database backends (issue 16): DATABASE_URL, the connection interface both backends
implement, migrations per dialect, and the CLI on PostgreSQL (`migrate`, `check`, a start
against an unreachable or too-new database). The repositories' own tests run on both
backends through the `database_url` and `h` fixtures."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from storage.backends import database_for
from storage.db import Database, SchemaTooNew, SqliteDatabase, migration_files
from storage.pg import PgDatabase, PlaceholderError, rowcount_of, translate
from storage.url import DatabaseUrlError, mask_password, parse_database_url
from tests.pg_server import PgServer
from tests.test_operations import TOKEN, one_line, run_cli

SECRET = "hunter2-s3cret"

# --------------------------------------------------------------------------- DATABASE_URL


@pytest.mark.parametrize(("url", "dialect", "where"), [
    ("sqlite:///data/bot.sqlite3", "sqlite", "data/bot.sqlite3"),
    ("sqlite:////var/lib/bot.sqlite3", "sqlite", "/var/lib/bot.sqlite3"),
    ("postgresql://bot:pw@db.example:5433/mahalleyar", "postgresql", "db.example:5433/mahalleyar"),
    ("postgres://bot@localhost/m", "postgresql", "localhost/m"),
    ("POSTGRESQL://bot:pw@h/m?sslmode=require", "postgresql", "h/m"),
])
def test_database_urls_parse(url: str, dialect: str, where: str) -> None:
    parsed = parse_database_url(url)
    assert parsed.dialect == dialect and parsed.where == where
    assert "pw" not in str(parsed) and "pw" not in repr(parsed)


def test_database_url_defaults_to_database_path_and_a_sqlite_url_sets_it() -> None:
    default = load_settings(_env_file=None, database_path="x/y.sqlite3")
    assert default.database.dialect == "sqlite" and default.database.path == "x/y.sqlite3"
    assert default.database_variable == "DATABASE_PATH"
    chosen = load_settings(_env_file=None, database_url="sqlite:////tmp/z.sqlite3")
    assert chosen.database_path == Path("/tmp/z.sqlite3")
    assert chosen.database_variable == "DATABASE_URL"
    pg = load_settings(_env_file=None, database_url=f"postgresql://bot:{SECRET}@h:5432/m")
    assert pg.database.dialect == "postgresql" and pg.database.password == SECRET
    assert SECRET not in repr(pg) and SECRET not in str(pg.database)


@pytest.mark.parametrize("url", [
    f"mysql://bot:{SECRET}@h/m", f"postgresql://bot:{SECRET}@h:port/m",
    f"postgresql://bot:{SECRET}@h/", "sqlite://relative.db", "sqlite:///", "nonsense",
])
def test_a_bad_database_url_is_one_message_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, database_url=url)
    assert str(caught.value).startswith("DATABASE_URL: ")
    assert SECRET not in str(caught.value)
    with pytest.raises(DatabaseUrlError):
        parse_database_url(url)


def test_a_bad_database_url_stops_the_bot_in_one_line(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path, BOT_TOKEN=TOKEN, DATABASE_URL=f"mysql://u:{SECRET}@h/db")
    line = one_line(result, 2, "DATABASE_URL")
    assert SECRET not in result.stderr + result.stdout, line


def test_mask_password_hides_it_quoted_or_not() -> None:
    url = parse_database_url("postgresql://u:p%40ss@h/d")
    assert mask_password("auth failed for p@ss and p%40ss", url) == "auth failed for *** and ***"


# --------------------------------------------------------------------------- placeholders

@pytest.mark.parametrize(("sql", "expected", "names"), [
    ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2", None),
    ("UPDATE t SET a = :a WHERE b = :b OR c = :a", "UPDATE t SET a = $1 WHERE b = $2 OR c = $1",
     ("a", "b")),
    ("SELECT '?', 'it''s :x', \"col?\" FROM t WHERE a = ?",
     "SELECT '?', 'it''s :x', \"col?\" FROM t WHERE a = $1", None),
    ("SELECT a::text FROM t -- what? :no\nWHERE b = ?",
     "SELECT a::text FROM t -- what? :no\nWHERE b = $1", None),
    ("SELECT /* ? */ ? ", "SELECT /* ? */ $1 ", None),
    ("SELECT 'سلام؟' || ? , '%' , '\\'", "SELECT 'سلام؟' || $1 , '%' , '\\'", None),
    ("SELECT 1 WHERE x = ':a' AND y=:b_2", "SELECT 1 WHERE x = ':a' AND y=$1", ("b_2",)),
])
def test_placeholders_become_numbered(sql: str, expected: str,
                                      names: tuple[str, ...] | None) -> None:
    assert translate(sql) == (expected, names)


def test_mixed_placeholders_are_refused() -> None:
    with pytest.raises(PlaceholderError):
        translate("SELECT ? , :a")


def test_rowcount_from_the_command_status() -> None:
    assert rowcount_of(b"INSERT 0 3") == 3
    assert rowcount_of("UPDATE 2") == 2
    assert rowcount_of(b"DELETE 0") == 0
    assert rowcount_of(b"SELECT 5") == -1
    assert rowcount_of(b"BEGIN") == -1
    assert rowcount_of(None) == -1


# --------------------------------------------------------------------------- one interface

async def test_both_backends_answer_the_same_way(database_url: str) -> None:
    """Exactly what the repositories use, on either backend."""
    db = database_for(database_url)
    await db.open()
    try:
        async with db.tx() as conn:
            assert conn.in_transaction
            await conn.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, name TEXT, "
                               "n INTEGER)")
            cur = await conn.execute(
                "INSERT INTO probe(id, name, n) VALUES (?, ?, ?) RETURNING id", (7, "a", 1))
            assert cur.lastrowid == 7     # (SQLite counts RETURNING rows only once fetched)
            cur = await conn.execute("INSERT INTO probe(id, name, n) VALUES (?, ?, ?)",
                                     (6, "z", 0))
            assert cur.rowcount == 1
            await conn.execute("DELETE FROM probe WHERE id = 6")
            many = await conn.executemany("INSERT INTO probe(id, name, n) VALUES (:i, :name, :n)",
                                          [{"i": 8, "name": "b?", "n": 2},
                                           {"i": 9, "name": "c", "n": 3}])
            assert many.rowcount == 2
        async with db.read() as conn:
            assert not conn.in_transaction
            rows = list(await conn.execute_fetchall(
                "SELECT id, name FROM probe WHERE name <> '?' AND n >= ? ORDER BY id", (2,)))
            assert [dict(r) for r in rows] == [{"id": 8, "name": "b?"}, {"id": 9, "name": "c"}]
            assert rows[0][1] == "b?" and rows[0]["id"] == 8
            async with conn.execute("SELECT id FROM probe ORDER BY id") as cur:
                assert [r[0] for r in await cur.fetchmany(2)] == [7, 8]
                assert [r[0] for r in await cur.fetchmany(2)] == [9]
                assert list(await cur.fetchmany(2)) == []
            cur = await conn.execute("SELECT name FROM probe WHERE id = ?", (7,))
            row = await cur.fetchone()
            assert row is not None and row["name"] == "a"
        async with db.autocommit() as conn:
            cur = await conn.execute("UPDATE probe SET n = n + 1 WHERE n > ?", (1,))
            assert cur.rowcount == 2
        with pytest.raises(ZeroDivisionError):
            async with db.tx() as conn:
                await conn.execute("DELETE FROM probe")
                await conn.execute("SAVEPOINT s")
                await conn.execute("ROLLBACK TO s")
                await conn.execute("RELEASE s")
                raise ZeroDivisionError
        async with db.report() as conn:
            assert len(list(await conn.execute_fetchall("SELECT * FROM probe"))) == 3
        assert db.dialect == conn.dialect == ("sqlite" if "sqlite" in database_url
                                              else "postgresql")
    finally:
        await db.close()


def test_database_picks_the_backend() -> None:
    assert isinstance(Database("x.sqlite3"), SqliteDatabase)
    assert isinstance(database_for("sqlite:///x.sqlite3"), SqliteDatabase)
    assert database_for(Path("x.sqlite3")).path == "x.sqlite3"
    assert isinstance(database_for("postgresql://u@h/d"), PgDatabase)
    with pytest.raises(ValueError, match="database_for"):
        Database("postgresql://u@h/d")


# --------------------------------------------------------------------------- migrations

def test_both_migration_sets_have_the_same_numbers() -> None:
    sqlite_numbers = [n for n, _, _ in migration_files("sqlite")]
    pg_numbers = [n for n, _, _ in migration_files("postgresql")]
    assert sqlite_numbers == list(range(1, len(sqlite_numbers) + 1))
    assert pg_numbers == sqlite_numbers


async def test_sqlite_refuses_a_schema_newer_than_the_code(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    db = Database(path)
    await db.open()
    await db.close()
    latest = len(migration_files("sqlite"))
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {latest + 5}")
    db = Database(path)
    with pytest.raises(SchemaTooNew, match=f"{latest + 5}.*\\({latest}\\)"):
        await db.open()
    assert not db.is_open
    result = await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, DATABASE_PATH=str(path))
    one_line(result, 2, str(latest + 5), f"({latest})")
    result = await asyncio.to_thread(run_cli, cwd=tmp_path, BOT_TOKEN=TOKEN,
                                     DATABASE_URL=f"sqlite:///{path}")
    one_line(result, 2, "DATABASE_URL", str(latest + 5), f"({latest})")


async def test_postgresql_refuses_a_schema_newer_than_the_code(pg_server: PgServer,
                                                               tmp_path: Path) -> None:
    url = await pg_server.new_database()
    try:
        latest = len(migration_files("postgresql"))
        db = database_for(url)
        await db.open()
        async with db.tx() as conn:
            await conn.execute("INSERT INTO schema_version(version, name, applied_at) "
                               "VALUES (?, 'future', 'now')", (latest + 5,))
        await db.close()
        db = database_for(url)
        with pytest.raises(SchemaTooNew, match=f"{latest + 5}.*\\({latest}\\)"):
            await db.open()
        assert not db.is_open
        result = await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, DATABASE_URL=url)
        one_line(result, 2, str(latest + 5), f"({latest})")
        result = await asyncio.to_thread(run_cli, cwd=tmp_path, BOT_TOKEN=TOKEN,
                                         DATABASE_URL=url)
        one_line(result, 2, "DATABASE_URL", str(latest + 5), f"({latest})")
    finally:
        await pg_server.drop(url)


async def test_two_processes_starting_together_migrate_once(pg_server: PgServer) -> None:
    url = await pg_server.empty_database()
    try:
        first, second = database_for(url), database_for(url)
        await asyncio.gather(first.open(), second.open())
        latest = len(migration_files("postgresql"))
        assert await first.schema_version() == await second.schema_version() == latest
        async with first.read() as conn:
            rows = list(await conn.execute_fetchall(
                "SELECT version, count(*) AS n FROM schema_version GROUP BY version"))
        assert all(r["n"] == 1 for r in rows) and len(rows) == latest
        await first.close()
        await second.close()
    finally:
        await pg_server.drop(url)


async def test_migrate_and_check_on_postgresql(pg_server: PgServer, tmp_path: Path) -> None:
    url = await pg_server.empty_database()
    try:
        latest = len(migration_files("postgresql"))
        where = url.rsplit("@", 1)[1]
        checked = await asyncio.to_thread(run_cli, "check", cwd=tmp_path, DATABASE_URL=url)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert f"database: postgresql {where}, schema version 0" in checked.stdout
        migrated = await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, DATABASE_URL=url)
        assert migrated.returncode == 0, migrated.stderr
        assert f"to {latest}" in migrated.stdout or "nothing to do" in migrated.stdout
        again = await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, DATABASE_URL=url)
        assert again.returncode == 0 and "nothing to do" in again.stdout
        assert f"schema version {latest}" in again.stdout
        checked = await asyncio.to_thread(run_cli, "check", cwd=tmp_path, DATABASE_URL=url)
        assert f"schema version {latest} (current)" in checked.stdout
    finally:
        await pg_server.drop(url)


async def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    with __import__("socket").socket() as probe:     # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://bot:{SECRET}@127.0.0.1:{port}/mahalleyar"
    start = await asyncio.to_thread(run_cli, cwd=tmp_path, BOT_TOKEN=TOKEN, DATABASE_URL=url)
    line = one_line(start, 2, "DATABASE_URL", f"127.0.0.1:{port}/mahalleyar")
    assert SECRET not in start.stdout + start.stderr, line
    migrate = await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, DATABASE_URL=url)
    one_line(migrate, 2, "DATABASE_URL")
    checked = await asyncio.to_thread(run_cli, "check", cwd=tmp_path, DATABASE_URL=url)
    assert checked.returncode == 1 and "FAIL database: DATABASE_URL" in checked.stdout
    assert SECRET not in checked.stdout + checked.stderr + migrate.stderr


async def test_a_wrong_password_is_reported_without_it(pg_server: PgServer,
                                                        tmp_path: Path) -> None:
    """The test server trusts local connections, so any password passes; a missing
    database stands in for the server's refusal (its message must not echo the URL)."""
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{pg_server.port}/no_such_db"
    start = await asyncio.to_thread(run_cli, cwd=tmp_path, BOT_TOKEN=TOKEN, DATABASE_URL=url)
    line = one_line(start, 2, "DATABASE_URL", "no_such_db")
    assert SECRET not in start.stdout + start.stderr, line


async def test_a_connection_the_server_closed_is_replaced(pg_url: str) -> None:
    """At worst the statement that meets the closed connection fails (when the server's
    goodbye had not arrived yet); the next one reconnects."""
    db = database_for(pg_url)
    await db.open()
    try:
        async with db.read() as conn:
            pid = next(iter(await conn.execute_fetchall("SELECT pg_backend_pid()")))[0]
        killer = database_for(pg_url)
        await killer.open()
        async with killer.autocommit() as conn:
            await conn.execute("SELECT pg_terminate_backend(?)", (pid,))
        await killer.close()
        await asyncio.sleep(0.2)
        async with db.tx() as conn:
            rows = list(await conn.execute_fetchall("SELECT pg_backend_pid()"))
        assert rows[0][0] != pid
    finally:
        await db.close()
