"""Operating the bot as a service (issue 15): every bad setting or start-up problem is one
line and exit 2 with nothing left running; webhook mode against the emulator's webhook
delivery; backups, restore, migrate, check, health and metrics. Offline: loopback only.
On SQLite files by nature; the PostgreSQL side of start, check and migrate is in
tests/test_backends.py."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot.sandbox.emulator import Emulator, EmuUser
from storage.db import Database, migration_files

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:OPS-TEST-TOKEN-abcdefghij"
_DROP = {"BOT_TOKEN", "DATABASE_PATH", "DATABASE_URL", "ADMIN_IDS", "WEBHOOK_URL", "METRICS_PORT",
         "BACKUP_DIR", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "BOT_API_BASE_URL"}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in _DROP}
    env.update(PYTHONPATH=str(ROOT), NO_PROXY="127.0.0.1,localhost", **extra)
    return env


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          env=clean_env(**env), cwd=cwd, timeout=60)


def one_line(result: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """Exit code, exactly one line on stderr naming the words, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


async def until(condition: Callable[[], bool], timeout: float) -> None:
    """Poll a condition another process or server task makes true."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 (the state lives in another task/process)
            await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def make_db(path: Path, version: int | None = None) -> None:
    """A database as the bot creates it; `version` stops the migrations early."""
    if version is None:
        db = Database(path)
        await db.open()
        async with db.tx() as conn:
            await conn.execute("INSERT INTO processed_updates(update_id, at) VALUES (7, 'x')")
        await db.close()
        return
    with sqlite3.connect(path) as conn:
        for number, _, sql in migration_files()[:version]:
            conn.executescript(sql)
            conn.execute(f"PRAGMA user_version = {number}")


def version_of(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


# --------------------------------------------------------------------------- settings

@pytest.mark.parametrize(("name", "value", "env"), [
    ("LOG_LEVEL", "LOUD", {}),
    ("DIGEST_TIME", "25:99", {}),
    ("BACKUP_TIME", "7", {}),
    ("REMINDER_HOURS", "-5", {}),
    ("REMINDER_HOURS", "100", {}),
    ("REMINDER_HOURS", "24,6", {"RESPONSE_WINDOW_HOURS": "12"}),
    ("WEBHOOK_URL", "http://example.org/hook", {}),
    ("WEBHOOK_URL", "not a url", {}),
    ("WEBHOOK_SECRET", "has spaces!", {}),
    ("WEBHOOK_PORT", "70000", {}),
    ("METRICS_PORT", "0", {}),
    ("BACKUP_KEEP", "0", {}),
    ("SANDBOX_PORT", "-1", {}),
    ("BOT_API_BASE_URL", "tapi.bale.ai/bot", {}),
])
def test_every_bad_setting_is_one_line_and_exit_2(name: str, value: str, env: dict[str, str],
                                                   tmp_path: Path) -> None:
    one_line(run_cli(cwd=tmp_path, **{name: value, **env}), 2, name)


def test_http_webhook_is_allowed_with_a_self_hosted_bot_api_server() -> None:
    from bot.config import load_settings

    settings = load_settings(_env_file=None, webhook_url="http://10.0.0.5:8081/hook",
                             bot_api_base_url="http://127.0.0.1:8081/bot")
    assert settings.webhook_url == "http://10.0.0.5:8081/hook"
    assert load_settings(_env_file=None, digest_time="7:05").digest_time == "07:05"


def test_database_path_unusable_is_one_line(tmp_path: Path) -> None:
    one_line(run_cli(cwd=tmp_path, BOT_TOKEN=TOKEN, DATABASE_PATH="/dev/null/x.db"), 2,
             "DATABASE_PATH", "/dev/null")
    (tmp_path / "folder.db").mkdir()
    one_line(run_cli(cwd=tmp_path, BOT_TOKEN=TOKEN, DATABASE_PATH=str(tmp_path / "folder.db")),
             2, "DATABASE_PATH")
    one_line(run_cli(cwd=tmp_path, SANDBOX_DATABASE_PATH="/dev/null/s.db"), 2,
             "SANDBOX_DATABASE_PATH")


def test_ports_in_use_are_one_line_and_nothing_keeps_running(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        started = time.monotonic()
        one_line(run_cli(cwd=tmp_path, SANDBOX_PORT=port,
                         SANDBOX_DATABASE_PATH=str(tmp_path / "s.db")), 2, "SANDBOX_PORT", port)
        one_line(run_cli(cwd=tmp_path, BOT_TOKEN=TOKEN, DATABASE_PATH=str(tmp_path / "b.db"),
                         WEBHOOK_URL="https://bot.example.org/hook", WEBHOOK_LISTEN="127.0.0.1",
                         WEBHOOK_PORT=port), 2, "WEBHOOK_PORT", port)
        one_line(run_cli(cwd=tmp_path, BOT_TOKEN=TOKEN, DATABASE_PATH=str(tmp_path / "b.db"),
                         METRICS_PORT=port), 2, "METRICS_PORT", port)
        assert time.monotonic() - started < 30   # subprocess.run returned: nothing hangs


# --------------------------------------------------------------------------- Bot API at start

@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(token=TOKEN)
    await emulator.start()
    emulator.add_user(EmuUser(id=1001, first_name="Zahra", language_code="fa"))
    yield emulator
    await emulator.stop()


async def test_rejected_token_is_one_line_without_the_token(emu: Emulator, tmp_path: Path
                                                            ) -> None:
    wrong = "654321:WRONG-TOKEN-zyxwvutsrq"
    result = await asyncio.to_thread(
        run_cli, cwd=tmp_path, BOT_TOKEN=wrong, BOT_API_BASE_URL=emu.base_url,
        DATABASE_PATH=str(tmp_path / "db.sqlite3"))
    line = one_line(result, 2, "BOT_TOKEN", "rejected")
    assert wrong not in result.stdout + result.stderr
    assert "WRONG-TOKEN" not in line
    assert not (tmp_path / "db.sqlite3.lock").exists()


async def test_unreachable_bot_api_retries_with_backoff_and_stops_cleanly(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=clean_env(BOT_TOKEN=TOKEN, BOT_API_BASE_URL=f"http://127.0.0.1:{free_port()}/bot",
                      DATABASE_PATH=str(tmp_path / "db.sqlite3")))
    await asyncio.sleep(5)
    proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.wait(), 20)
    assert proc.stdout is not None
    out = (await proc.stdout.read()).decode()
    retries = [line for line in out.splitlines() if "unreachable" in line]
    assert len(retries) >= 2, out
    assert "trying again in 1 s" in retries[0] and "trying again in 2 s" in retries[1]
    assert "Traceback" not in out and TOKEN not in out and TOKEN.split(":")[1] not in out


def test_log_lines_never_contain_the_token() -> None:
    import logging

    from bot.config import load_settings
    from bot.ops.logs import RedactingFormatter, secrets_of

    settings = load_settings(_env_file=None, bot_token=TOKEN, webhook_secret="hook-secret")
    formatter = RedactingFormatter("%(message)s", secrets_of(settings))
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        record = logging.LogRecord("httpx", logging.ERROR, __file__, 1,
                                   "POST https://api.telegram.org/bot%s/getMe and %s",
                                   (TOKEN.replace(":", "%3A"), "hook-secret"), sys.exc_info())
    text = formatter.format(record)
    assert "OPS-TEST-TOKEN" not in text and "hook-secret" not in text
    assert text.count("<BOT_TOKEN>") >= 3


# --------------------------------------------------------------------------- webhook + live ops

async def test_webhook_mode_metrics_health_backup_and_restore_refusal(emu: Emulator,
                                                                      tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    db_path = tmp_path / "bot.sqlite3"
    env = clean_env(BOT_TOKEN=TOKEN, BOT_API_BASE_URL=emu.base_url,
                    BOT_API_BASE_FILE_URL=emu.base_file_url, DATABASE_PATH=str(db_path),
                    WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", WEBHOOK_LISTEN="127.0.0.1",
                    WEBHOOK_PORT=str(port), WEBHOOK_SECRET="s3cret-Token_1",
                    METRICS_PORT=str(metrics_port))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    try:
        await until(lambda: bool(emu.webhook_url), 30)
        assert emu.webhook_url == f"http://127.0.0.1:{port}/hook"
        assert emu.webhook_secret == "s3cret-Token_1"
        emu.send_text(1001, "/start")
        reply = await emu.wait_for_message(1001, timeout=20)
        assert reply["text"]
        assert emu.webhook_deliveries[0][1] == 200
        assert emu.pending_updates() == []
        async with ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{port}/hook", json={"update_id": 424242},
                                 headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as bad:
                assert bad.status == 403
            async with http.post(f"http://127.0.0.1:{port}/hook",
                                 json={"update_id": 424243}) as missing:
                assert missing.status == 403
            async with http.get(f"http://127.0.0.1:{metrics_port}/metrics") as scrape:
                metrics = await scrape.text()
        assert "mahalleyar_updates_handled_total 1.0" in metrics
        assert 'mahalleyar_bot_api_responses_total{status="2xx"}' in metrics
        for name in ("mahalleyar_outbox_backlog", "mahalleyar_outbox_oldest_age_seconds",
                     "mahalleyar_sla_lag_seconds", "mahalleyar_sla_breaches",
                     "mahalleyar_sla_sweep_duration_seconds", "mahalleyar_database_up 1.0"):
            assert name in metrics

        # A second bot on the same database is refused; so is restore; backup works.
        second = await asyncio.to_thread(run_cli, cwd=tmp_path, BOT_TOKEN=TOKEN,
                                         BOT_API_BASE_URL=emu.base_url,
                                         DATABASE_PATH=str(db_path))
        one_line(second, 2, "DATABASE_PATH", "another bot process")
        copy = tmp_path / "live-copy.sqlite3"
        made = await asyncio.to_thread(run_cli, "backup", str(copy), cwd=tmp_path,
                                       DATABASE_PATH=str(db_path))
        assert made.returncode == 0, made.stderr
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        with sqlite3.connect(copy) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT count(*) FROM people").fetchone()[0] >= 1
        refused = await asyncio.to_thread(run_cli, "restore", str(copy), cwd=tmp_path,
                                          DATABASE_PATH=str(db_path))
        one_line(refused, 1, "restore", "running")
        healthy = await asyncio.to_thread(run_cli, "health", cwd=tmp_path,
                                          DATABASE_PATH=str(db_path))
        assert healthy.returncode == 0, healthy.stderr
        assert healthy.stdout.startswith("healthy")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
    assert proc.stdout is not None
    out = (await proc.stdout.read()).decode()
    assert code == 0, out
    assert "Traceback" not in out and "PTBUserWarning" not in out
    assert TOKEN not in out and "s3cret-Token_1" not in out
    assert "webhook mode" in out
    assert not Path(f"{db_path}.lock").exists()  # noqa: ASYNC240 (a test, after the fact)
    unhealthy = await asyncio.to_thread(run_cli, "health", cwd=tmp_path,
                                        DATABASE_PATH=str(db_path))
    one_line(unhealthy, 1, "unhealthy")


async def test_emulator_webhook_retries_until_the_bot_answers(emu: Emulator) -> None:
    from aiohttp import web

    answers = [500, 200]
    got: list[dict[str, object]] = []

    async def hook(request: web.Request) -> web.Response:
        assert request.headers["X-Telegram-Bot-Api-Secret-Token"] == "abc"
        got.append(await request.json())
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/h", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with ClientSession() as http:
            async with http.post(f"{emu.base_url}{TOKEN}/setWebhook",
                                 data={"url": f"http://127.0.0.1:{port}/h",
                                       "secret_token": "abc"}) as response:
                assert (await response.json())["ok"]
            emu.send_text(1001, "hello")
            await until(lambda: len(emu.webhook_deliveries) >= 2, 10)
            assert [status for _, status in emu.webhook_deliveries] == [500, 200]
            assert got[0] == got[1]
            async with http.post(f"{emu.base_url}{TOKEN}/getUpdates") as polled:
                assert polled.status == 409
            async with http.post(f"{emu.base_url}{TOKEN}/getWebhookInfo") as info:
                assert (await info.json())["result"]["url"] == f"http://127.0.0.1:{port}/h"
            async with http.post(f"{emu.base_url}{TOKEN}/deleteWebhook") as deleted:
                assert (await deleted.json())["ok"]
        assert emu.webhook_url == ""
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- backups

async def test_backup_is_0600_consistent_and_refuses_to_overwrite(tmp_path: Path) -> None:
    from bot.ops import backup

    db_path = tmp_path / "bot.sqlite3"
    await make_db(db_path)
    target = backup.backup(db_path, tmp_path / "copy.sqlite3")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT update_id FROM processed_updates").fetchall() == [(7,)]
    with pytest.raises(backup.BackupError, match="already exists"):
        backup.backup(db_path, target)
    with pytest.raises(backup.BackupError, match="no such database"):
        backup.backup(tmp_path / "missing.sqlite3", tmp_path / "x.sqlite3")


async def test_daily_backup_rotation_keeps_the_newest(tmp_path: Path) -> None:
    from bot.ops import backup

    db_path = tmp_path / "bot.sqlite3"
    await make_db(db_path)
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in range(1, 6):
        (folder / f"mahalleyar-2026010{day}-033000.sqlite3").write_bytes(b"old")
    (folder / "unrelated.txt").write_text("keep me")
    made = backup.daily_backup(db_path, folder, keep=3)
    names = sorted(p.name for p in folder.iterdir())
    assert made.name in names and "unrelated.txt" in names
    assert names == sorted(["mahalleyar-20260104-033000.sqlite3",
                            "mahalleyar-20260105-033000.sqlite3", made.name, "unrelated.txt"])


async def test_daily_backup_job_is_scheduled_and_writes_a_rotated_backup(tmp_path: Path
                                                                           ) -> None:
    from types import SimpleNamespace

    from bot.app import build_application
    from bot.config import load_settings
    from bot.ops import runtime

    folder = tmp_path / "backups"
    settings = load_settings(_env_file=None, bot_token=TOKEN, backup_dir=str(folder),
                             database_path=str(tmp_path / "bot.sqlite3"), backup_keep=2,
                             backup_time="03:30")
    await make_db(settings.database_path)
    app = build_application(settings)
    runtime.add_operations(app, settings, None)
    assert app.job_queue is not None
    assert [job.name for job in app.job_queue.jobs() if job.name == "backup"] == ["backup"]
    context = SimpleNamespace(application=app)
    for _ in range(3):
        await runtime._backup_job(context)
        await asyncio.sleep(1.05)   # backups are named by the second
    assert len(list(folder.glob("mahalleyar-*.sqlite3"))) == 2


async def test_restore_refuses_while_locked_and_replaces_otherwise(tmp_path: Path) -> None:
    from bot.ops import backup
    from bot.ops.lock import DatabaseLock

    db_path = tmp_path / "bot.sqlite3"
    await make_db(db_path)
    saved = backup.backup(db_path, tmp_path / "saved.sqlite3")
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM processed_updates")
    lock = DatabaseLock(db_path)
    assert lock.acquire()
    try:
        result = await asyncio.to_thread(run_cli, "restore", str(saved), cwd=tmp_path,
                                         DATABASE_PATH=str(db_path))
        one_line(result, 1, "running")
    finally:
        lock.release()
    result = await asyncio.to_thread(run_cli, "restore", str(saved), cwd=tmp_path,
                                     DATABASE_PATH=str(db_path))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT update_id FROM processed_updates").fetchall() == [(7,)]
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"\x00not a database" * 100)
    one_line(await asyncio.to_thread(run_cli, "restore", str(junk), cwd=tmp_path,
                                     DATABASE_PATH=str(db_path)), 1, "junk.sqlite3")


async def test_backup_and_check_never_migrate_but_migrate_backs_up_first(tmp_path: Path
                                                                         ) -> None:
    db_path = tmp_path / "old.sqlite3"
    await make_db(db_path, version=1)
    latest = len(migration_files())
    env = {"DATABASE_PATH": str(db_path)}
    made = await asyncio.to_thread(run_cli, "backup", str(tmp_path / "b.sqlite3"),
                                   cwd=tmp_path, **env)
    assert made.returncode == 0, made.stderr
    checked = await asyncio.to_thread(run_cli, "check", cwd=tmp_path, **env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert len(checked.stdout.strip().splitlines()) == 3
    assert "needs `python -m bot migrate`" in checked.stdout
    assert version_of(db_path) == 1 and version_of(tmp_path / "b.sqlite3") == 1
    migrated = await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, **env)
    assert migrated.returncode == 0, migrated.stderr
    assert version_of(db_path) == latest
    before = sorted(tmp_path.glob("old.sqlite3.before-migrate-*"))  # noqa: ASYNC240
    assert len(before) == 1 and version_of(before[0]) == 1
    assert stat.S_IMODE(before[0].stat().st_mode) == 0o600
    assert "restore" in migrated.stdout
    again = await asyncio.to_thread(run_cli, "migrate", cwd=tmp_path, **env)
    assert again.returncode == 0 and "nothing to do" in again.stdout


async def test_check_reports_the_bot_api_and_the_route(emu: Emulator, tmp_path: Path) -> None:
    env = {"BOT_TOKEN": TOKEN, "BOT_API_BASE_URL": emu.base_url,
           "DATABASE_PATH": str(tmp_path / "db.sqlite3")}
    good = await asyncio.to_thread(run_cli, "check", cwd=tmp_path, **env)
    assert good.returncode == 0, good.stdout + good.stderr
    lines = good.stdout.strip().splitlines()
    assert len(lines) == 3
    assert "@mahalleyar_bot" in lines[2] and "self-hosted" in lines[2]
    assert "no proxy" in lines[2]
    assert not (tmp_path / "db.sqlite3").exists()   # check creates and migrates nothing
    env["BOT_API_BASE_URL"] = f"http://127.0.0.1:{free_port()}/bot"
    bad = await asyncio.to_thread(run_cli, "check", cwd=tmp_path, **env)
    assert bad.returncode == 1 and "FAIL bot api" in bad.stdout
    assert TOKEN not in bad.stdout + bad.stderr


# --------------------------------------------------------------------------- CLI tools

def test_invite_argument_mistakes_are_clear(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": str(tmp_path / "db.sqlite3"), "BOT_USERNAME": "mahalleyar_bot"}
    for days in ("0", "-3"):
        one_line(run_cli("invite", "--role", "mayor", "--neighbourhoods", "THR01", "--days",
                         days, cwd=tmp_path, **env), 2, "--days")
    one_line(run_cli("invite", "--role", "mayor", "--house", "welfare", "--neighbourhoods",
                     "THR01", cwd=tmp_path, **env), 2, "mayor", "--house")
    one_line(run_cli("invite", "--role", "staff", "--neighbourhoods", "THR01", cwd=tmp_path,
                     **env), 2, "staff", "--house")


HEADER = ("province_code,city_code,city_fa,city_en,neighbourhood_code,neighbourhood_fa,"
          "neighbourhood_en,lat,lon,sample")
ROW = "tehran,pakdasht,پاکدشت,Pakdasht,PKD01,محله یک,Mahalle 1,35.48,51.68,0"


@pytest.mark.parametrize(("encoding", "text"), [
    ("utf-8", f"{HEADER}\n{ROW}\n"),
    ("utf-8-sig", f"{HEADER}\n{ROW}\n"),
    ("utf-16", f"{HEADER}\r\n{ROW}\r\n"),
    ("utf-16", f"{HEADER}\n{ROW}\n".replace(",", "\t")),   # Excel's "Unicode text"
])
def test_import_places_reads_utf8_and_utf16(encoding: str, text: str, tmp_path: Path) -> None:
    csv_file = tmp_path / "places.csv"
    csv_file.write_bytes(text.encode(encoding))
    result = run_cli("import-places", str(csv_file), cwd=tmp_path,
                     DATABASE_PATH=str(tmp_path / "db.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert "imported 1" in result.stdout


@pytest.mark.parametrize(("content", "word"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00", "UTF-8 or UTF-16"),
    (f"{HEADER}\n{ROW}\n".replace("ی", "ي").encode("cp1256"), "UTF-8 or UTF-16"),
    (f"{HEADER}\n".encode(), "no rows"),
])
def test_import_places_refuses_other_encodings_and_empty_files(content: bytes, word: str,
                                                               tmp_path: Path) -> None:
    csv_file = tmp_path / "places.csv"
    csv_file.write_bytes(content)
    one_line(run_cli("import-places", str(csv_file), cwd=tmp_path,
                     DATABASE_PATH=str(tmp_path / "db.sqlite3")), 1, "nothing imported", word)


# --------------------------------------------------------------------------- start-up log

async def test_sandbox_start_log_is_ours(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=clean_env(SANDBOX_PORT="0", SANDBOX_DATABASE_PATH=str(tmp_path / "s.sqlite3")))
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not any("http://127.0.0.1:" in line for line in lines):
                raw = await proc.stdout.readline()
                assert raw, "\n".join(lines)
                lines.append(raw.decode())
        await asyncio.sleep(1)   # its signal handlers are installed just after the URL line
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
    lines += (await proc.stdout.read()).decode().splitlines()
    text = "\n".join(lines)
    assert code == 0, text
    assert "PTBUserWarning" not in text and "Traceback" not in text
    assert not [line for line in lines if "INFO apscheduler" in line], text


async def test_polling_mode_answers_and_stops_cleanly(emu: Emulator, tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=clean_env(BOT_TOKEN=TOKEN, BOT_API_BASE_URL=emu.base_url,
                      BOT_API_BASE_FILE_URL=emu.base_file_url,
                      DATABASE_PATH=str(tmp_path / "bot.sqlite3")))
    try:
        emu.send_text(1001, "/start")
        assert (await emu.wait_for_message(1001, timeout=30))["text"]
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 20)
    assert proc.stdout is not None
    out = (await proc.stdout.read()).decode()
    assert code == 0, out
    assert "polling" in out and "Traceback" not in out and "Warning" not in out
    assert TOKEN not in out and TOKEN.split(":")[1] not in out


# --------------------------------------------------------------------------- metrics hooks

def sample(name: str, labels: dict[str, str] | None = None) -> float:
    from bot.metrics import REGISTRY

    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


async def test_bot_api_answers_are_counted_by_status(emu: Emulator) -> None:
    from telegram import Bot
    from telegram.error import NetworkError, RetryAfter

    from bot.metrics import counting_request

    before = {s: sample("mahalleyar_bot_api_responses_total", {"status": s})
              for s in ("2xx", "429", "5xx")}
    bot = Bot(TOKEN, base_url=emu.base_url, request=counting_request(2))
    async with bot:
        emu.inject_fault("sendMessage", status=429, retry_after=1)
        with pytest.raises(RetryAfter):
            await bot.send_message(1001, "hi")
        emu.inject_fault("sendMessage", status=502)
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "hi")
        await bot.send_message(1001, "hi")
    after = {s: sample("mahalleyar_bot_api_responses_total", {"status": s})
             for s in ("2xx", "429", "5xx")}
    assert after["429"] - before["429"] == 1
    assert after["5xx"] - before["5xx"] == 1
    assert after["2xx"] - before["2xx"] >= 2          # getMe at initialize, then the send
    assert sample("mahalleyar_last_bot_api_success_timestamp_seconds") > time.time() - 60


async def test_sweep_hook_times_the_sweep() -> None:
    from bot.metrics import timed_sweep

    @timed_sweep
    async def sweep() -> int:
        await asyncio.sleep(0.01)
        return 3

    count = sample("mahalleyar_sla_sweep_duration_seconds_count")
    assert await sweep() == 3
    assert sample("mahalleyar_sla_sweep_duration_seconds_count") == count + 1
    assert sample("mahalleyar_sla_sweep_last_timestamp_seconds") > time.time() - 60


async def test_backlog_lag_and_breaches_are_read_from_the_database(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.metrics import read_database

    db_path = tmp_path / "bot.sqlite3"
    await make_db(db_path)
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    ago = (now - timedelta(minutes=10)).isoformat(timespec="seconds")
    with sqlite3.connect(db_path) as conn:
        for n, status in enumerate(("pending", "sending", "sent", "failed")):
            conn.execute("INSERT INTO outbox(idem_key, chat_id, kind, payload, status, "
                         "not_before, created_at) VALUES (?, 1, 'k', '{}', ?, ?, ?)",
                         (f"k{n}", status, ago, ago))
        conn.execute("INSERT INTO sla_actions(ticket_id, window_no, action, at) "
                     "VALUES (1, 1, 'breach', ?), (1, 1, 'remind_24', ?)", (ago, ago))
    values = read_database(db_path, now)
    assert values["mahalleyar_outbox_backlog"] == 2
    assert values["mahalleyar_outbox_oldest_age_seconds"] == 600
    assert values["mahalleyar_outbox_failed"] == 1
    assert values["mahalleyar_sla_breaches"] == 1
    assert values["mahalleyar_sla_lag_seconds"] == 0


def test_check_names_the_proxy_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.ops.preflight import proxy_for

    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.example:3128")
    assert proxy_for("https://api.telegram.org/bot") == "http://proxy.example:3128"
    monkeypatch.delenv("HTTPS_PROXY")
    assert proxy_for("https://api.telegram.org/bot") is None
