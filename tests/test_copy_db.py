"""`python -m bot copy-db`: SQLite → SQLite here (always runs); the PostgreSQL round trip
is in test_copy_db_pg.py. Checksums are compared through the CLI's own output and, to be
sure they mean something, against an independent dump of both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.__main__ import _parser
from bot.cli import SUBCOMMANDS
from bot.config import Settings
from storage import copy as copy_mod
from storage.copy import TableChecksum, canonical, copy_database, redact
from storage.db import migration_files
from tests.copydb_data import BIG_ID, migrated, realistic


async def main(argv: list[str]) -> int:
    """`python -m bot ARGV` inside the test's event loop."""
    args = _parser().parse_args(argv)
    return await SUBCOMMANDS[args.command][2](Settings(_env_file=None), args)


def url(path: Path) -> str:
    return f"sqlite:///{path}"      # tmp paths are absolute: sqlite:////tmp/...


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every copied table's rows, sorted (independent of copy-db's own reading)."""
    conn = sqlite3.connect(path)
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'ticket_fts%' ORDER BY name")]
    out = {n: sorted(conn.execute(f'SELECT * FROM "{n}"'), key=repr) for n in names}
    conn.close()
    return out


def search(path: Path, needle: str) -> list[int]:
    conn = sqlite3.connect(path)
    rows = [r[0] for r in conn.execute(
        "SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ? ORDER BY rowid", (needle,))]
    conn.close()
    return rows


@pytest.fixture
async def source(tmp_path: Path) -> Path:
    return await realistic(tmp_path / "source.sqlite3")


async def test_sqlite_to_sqlite_copies_everything_and_rebuilds_search(
        source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = await migrated(tmp_path / "target.sqlite3")
    assert await main(["copy-db", "--from", url(source), "--to", url(target)]) == 0
    out = capsys.readouterr().out
    assert "MISMATCH" not in out and "row counts and checksums match" in out
    assert "search index ticket_fts" in out
    tickets_line = next(line for line in out.splitlines() if line.startswith("tickets "))
    assert " 40 " in tickets_line and tickets_line.rstrip().endswith("ok")
    assert dump(target) == dump(source)
    # The search index was rebuilt on the target: a trigram finds the same tickets.
    assert search(target, '"چکه"') == search(source, '"چکه"') != []
    conn = sqlite3.connect(target)
    assert conn.execute("SELECT id FROM people WHERE id = ?", (BIG_ID,)).fetchone()
    # A new ticket gets the next id (SQLite's rowid follows the largest copied one).
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


async def test_copy_streams_in_chunks(source: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny chunks and progress lines on every table: the same result as one chunk."""
    monkeypatch.setattr(copy_mod, "CHUNK_ROWS", 3)
    monkeypatch.setattr(copy_mod, "PROGRESS_ROWS", 30)
    monkeypatch.setattr(copy_mod, "PROGRESS_SECONDS", 0.0)
    target = await migrated(tmp_path / "target.sqlite3")
    lines: list[str] = []
    result = await copy_database(url(source), url(target), progress=lines.append)
    assert result.ok
    assert "  tickets: 3 / 40 rows" in lines[0] or any("tickets: 3 / 40" in x for x in lines)
    assert any("tickets: 40 / 40 rows" in line for line in lines)
    assert dump(target) == dump(source)


async def test_schema_version_mismatch_is_refused_in_one_line(
        source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = await migrated(tmp_path / "old.sqlite3", version=6)
    before = dump(target)
    assert await main(["copy-db", "--from", url(source), "--to", url(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    latest = len(migration_files())
    assert f"schema versions differ: source {latest}, target 6" in err and "migrate" in err
    assert dump(target) == before


async def test_missing_target_is_refused(source: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "nope.sqlite3"
    assert await main(["copy-db", "--from", url(source), "--to", url(target)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not target.exists()


async def test_non_empty_target_is_refused_unless_replace(
        source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = await realistic(tmp_path / "busy.sqlite3", tickets=5)
    before = dump(target)
    assert await main(["copy-db", "--from", url(source), "--to", url(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not empty" in err and "--replace" in err
    assert dump(target) == before
    assert await main(["copy-db", "--from", url(source), "--to", url(target), "--replace"]) == 0
    assert dump(target) == dump(source)
    # The old index entries went with --replace: only the copied tickets are found.
    assert search(target, '"چکه"') == search(source, '"چکه"')


async def test_same_database_is_refused(source: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert await main(["copy-db", "--from", url(source), "--to", url(source), "--replace"]) == 2
    assert "same database" in capsys.readouterr().err


async def test_a_mismatch_exits_1_and_rolls_the_target_back(
        source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A target that stores something else than it was given (here: a corrupted text) is
    caught by the checksum; the target is rolled back to what it was."""
    target = await migrated(tmp_path / "target.sqlite3")
    before = dump(target)
    real = copy_mod.SqliteEndpoint.insert

    async def corrupting(self: copy_mod.SqliteEndpoint, table: copy_mod.Table,
                         columns: list[str], rows: list[tuple[object, ...]]) -> None:
        if table.name == "kv":
            rows = [(k, f"{v} ") if k == "ب" else (k, v) for k, v in rows]
        await real(self, table, columns, rows)

    monkeypatch.setattr(copy_mod.SqliteEndpoint, "insert", corrupting)
    assert await main(["copy-db", "--from", url(source), "--to", url(target)]) == 1
    captured = capsys.readouterr()
    kv_line = next(line for line in captured.out.splitlines() if line.startswith("kv "))
    assert kv_line.rstrip().endswith("MISMATCH")
    assert "verification failed for kv" in captured.err
    assert dump(target) == before


def test_canonical_values_do_not_depend_on_the_engine() -> None:
    assert canonical(2.0, "float") == canonical(2, "float")
    assert canonical(True, "bool") == canonical(1, "bool")
    assert canonical(None) != canonical("") != canonical(0)
    assert canonical('{"b": 1, "a": [1, 2]}', "json") == canonical('{"a":[1,2],"b":1}', "json")
    assert canonical(b"\x00\x01") != canonical("\x00\x01")
    assert canonical(7, "text") == canonical("7", "text")
    one, two = TableChecksum(["text", "text"]), TableChecksum(["text", "text"])
    one.add([("ab", "c")])
    two.add([("a", "bc")])
    assert one.hexdigest() != two.hexdigest()      # values are length-prefixed


def test_passwords_are_never_printed() -> None:
    assert redact("postgresql://bot:s3cret@db.example:5432/mahalleyar") == \
        "postgresql://bot:***@db.example:5432/mahalleyar"
    assert "s3cret" not in redact("postgresql://bot:s3cret@db/x?sslmode=require")
    assert redact("sqlite:////var/lib/a.sqlite3") == "sqlite:////var/lib/a.sqlite3"


async def test_unreachable_postgresql_is_refused_without_the_password(
        source: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = "postgresql://bot:s3cret@127.0.0.1:9/mahalleyar"
    assert await main(["copy-db", "--from", url(source), "--to", target]) == 2
    captured = capsys.readouterr()
    assert "cannot connect" in captured.err
    assert "s3cret" not in captured.out + captured.err


async def test_as_a_user_runs_it(source: Path, tmp_path: Path) -> None:
    """`python -m bot copy-db` in its own process, with a relative sqlite:/// URL."""
    from tests.test_config_cli import run_cli

    await migrated(tmp_path / "target.sqlite3")
    result = await asyncio.to_thread(
        run_cli, "copy-db", "--from", "sqlite:///source.sqlite3", "--to",
        "sqlite:///target.sqlite3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == \
        "copying sqlite:///source.sqlite3 -> sqlite:///target.sqlite3"
    assert "row counts and checksums match" in result.stdout
    help_text = await asyncio.to_thread(run_cli, "--help")
    assert "copy-db" in help_text.stdout


async def test_a_target_a_bot_runs_on_is_refused(source: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from bot.ops.lock import DatabaseLock

    target = await migrated(tmp_path / "target.sqlite3")
    lock = DatabaseLock(target)
    assert lock.acquire()
    try:
        assert await main(["copy-db", "--from", url(source), "--to", url(target)]) == 2
    finally:
        lock.release()
    assert "a bot is running on the target" in capsys.readouterr().err
