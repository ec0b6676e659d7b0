"""`python -m bot` with a token: checks, the lock, then polling or the webhook server."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from datetime import time as clock_time
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application, TypeHandler

from bot import metrics
from bot.config import Settings
from bot.ops import backup
from bot.ops.lock import DatabaseLock, lock_anchor
from bot.ops.preflight import (
    StartError,
    database_url_problem,
    port_problem,
    wait_for_bot_api,
)

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
HEARTBEAT_SECONDS = 30.0


def fail(line: str) -> int:
    print(line, file=sys.stderr, flush=True)
    return 2


EXIT_LEADERSHIP_LOST = 3


def run_bot(settings: Settings) -> int:
    """Polling, or the webhook server when WEBHOOK_URL is set. Returns the exit code."""
    if problem := database_url_problem(settings.database, settings.database_variable):
        return fail(problem)
    if settings.database.dialect == "postgresql":   # leader and standby: bot/ops/leader.py
        return run_standby_then_leader(settings)
    if settings.webhook_url and (problem := port_problem(
            settings.webhook_listen, settings.webhook_port, "WEBHOOK_PORT")):
        return fail(problem)
    if settings.metrics_port and (problem := port_problem(
            settings.metrics_host, settings.metrics_port, "METRICS_PORT")):
        return fail(problem)
    lock = DatabaseLock(lock_anchor(settings))
    if not lock.acquire():
        return fail(f"{settings.database_variable}: another bot process is running on "
                    f"{settings.database.where} (it holds {lock.path})")
    try:
        return _run_locked(settings, lock)
    except StartError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 0
    finally:
        lock.release()


def run_standby_then_leader(settings: Settings) -> int:
    """PostgreSQL: any number of processes; the one holding the leadership works, the others
    wait (bot/ops/leader.py). A standby builds nothing that touches Telegram's updates (PTB's
    start-up would delete or take over the leader's webhook; a second getUpdates gets 409):
    it migrates, then waits for the leadership, then starts like the only process would."""
    from bot.ops.leader import Leadership, LeaderThread

    if settings.webhook_url and (problem := port_problem(
            settings.webhook_listen, settings.webhook_port, "WEBHOOK_PORT")):
        return fail(problem)
    if settings.metrics_port and (problem := port_problem(
            settings.metrics_host, settings.metrics_port, "METRICS_PORT")):
        return fail(problem)
    try:
        asyncio.run(_migrate(settings))
    except Exception as exc:
        return fail(f"DATABASE_URL: {settings.database.safe}: {exc}")
    # The machine-local lock only carries the heartbeat `health` reads (one per machine;
    # a second process here, e.g. in tests, runs without it).
    lock: DatabaseLock | None = DatabaseLock(lock_anchor(settings))
    assert lock is not None
    if not lock.acquire():
        log.info("another bot process on this machine holds %s; `health` follows that one",
                 lock.path)
        lock = None
    leader = LeaderThread(Leadership(settings.database.dsn, settings.failover_seconds),
                          on_lost=_leadership_lost)
    leader.start()
    log.info("standby: waiting for the leadership on %s (FAILOVER_SECONDS=%g)",
             settings.database.safe, settings.failover_seconds)
    try:
        while not leader.wait(1.0):
            if lock is not None and leader.alive:
                lock.beat()          # a waiting standby is healthy
        return _run_locked(settings, lock)
    except StartError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 0
    finally:
        leader.stop()
        if lock is not None:
            lock.release()


async def _migrate(settings: Settings) -> None:
    from storage.backends import database_for

    db = database_for(settings.database)
    await db.open()          # migrates (under the server's advisory lock)
    await db.close()


def _leadership_lost(reason: str) -> None:
    """The fence is closed already (nothing more is polled, sent or swept); end the process
    now, without PTB's shutdown (its last getUpdates would be the old leader's)."""
    log.critical("leadership lost (%s): stopped polling, sending and sweeping; exiting so "
                 "the service manager starts this process again as a standby", reason)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(EXIT_LEADERSHIP_LOST)


def _run_locked(settings: Settings, lock: DatabaseLock | None) -> int:
    username = wait_for_bot_api(settings, alive=lock.beat if lock is not None else None)
    log.info("Bot API reachable: @%s", username)
    if settings.metrics_port:
        # The database gauges read the SQLite file; on PostgreSQL only the process's own.
        metrics.serve(settings.metrics_host, settings.metrics_port,
                      settings.database_path if settings.database.dialect == "sqlite" else None)
    from bot.app import build_application

    app = build_application(settings)
    add_operations(app, settings, lock)
    try:
        if settings.webhook_url:
            run_webhook(app, settings)
        else:
            log.info("polling the Bot API for updates")
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        return fail("BOT_TOKEN: rejected by the Bot API (check it with @BotFather)")
    except NetworkError as exc:
        print(f"Bot API unreachable while starting ({type(exc).__name__}); "
              "the service manager may start the bot again", file=sys.stderr)
        return 1
    return 0


def run_webhook(app: App, settings: Settings) -> None:
    """PTB's webhook server (tornado); Telegram posts to WEBHOOK_URL, a proxy or Telegram
    itself reaches WEBHOOK_LISTEN:WEBHOOK_PORT at the URL's path."""
    assert settings.webhook_url is not None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    log.info("webhook mode: updates arrive at %s (listening on %s:%d)%s", settings.webhook_url,
             settings.webhook_listen, settings.webhook_port,
             "" if secret else "; no WEBHOOK_SECRET: anyone who knows the URL can post")
    app.run_webhook(listen=settings.webhook_listen, port=settings.webhook_port,
                    url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                    webhook_url=settings.webhook_url, secret_token=secret,
                    allowed_updates=Update.ALL_TYPES)


def add_operations(app: App, settings: Settings, lock: DatabaseLock | None) -> None:
    """Count updates, beat the heartbeat, take the daily backup (all on the JobQueue)."""
    # Blocking (PTB awaits it in place): counting is one increment; non-blocking would
    # make a task (and its name) for every update.
    app.add_handler(TypeHandler(Update, _count_update), group=-1000)
    queue = app.job_queue
    assert queue is not None
    queue.run_once(_freeze_heap, when=0.5, name="gc-freeze")
    if lock is not None:
        app.bot_data["ops_lock"] = lock
        queue.run_repeating(_heartbeat, interval=HEARTBEAT_SECONDS, first=0.1,
                            name="heartbeat")
    if settings.backup_dir is not None and settings.database.dialect != "sqlite":
        log.warning("BACKUP_DIR is ignored on PostgreSQL: back it up with the server's tools "
                    "(pg_dump, base backups)")
    elif settings.backup_dir is not None:
        hour, minute = (int(x) for x in settings.backup_time.split(":"))
        queue.run_daily(_backup_job, time=clock_time(hour, minute, tzinfo=settings.tz),
                        name="backup")


async def _freeze_heap(context: Any) -> None:
    """Everything loaded at start (catalogues, reference data, the application) lives as
    long as the process: keep it out of the garbage collector's full passes, which
    otherwise stall every update now and then (bench/bench_updates.py: p95 110 → 38 ms)."""
    gc.collect()
    gc.freeze()


async def _count_update(update: object, context: Any) -> None:
    metrics.update_handled()


async def _heartbeat(context: Any) -> None:
    """Alive = the event loop runs jobs, the database answers and updates are being fetched
    (or the webhook server runs). Telegram being unreachable does not stop the beat."""
    app = context.application
    deps = app.bot_data["deps"]
    try:
        async with deps.db.read() as conn:
            await conn.execute("SELECT 1")
    except Exception:
        log.warning("heartbeat: the database does not answer", exc_info=True)
        return
    if app.updater is not None and not app.updater.running:
        return
    app.bot_data["ops_lock"].beat()


async def _backup_job(context: Any) -> None:
    settings: Settings = context.application.bot_data["deps"].settings
    assert settings.backup_dir is not None
    try:
        made = await asyncio.to_thread(backup.daily_backup, settings.database_path,
                                       settings.backup_dir, settings.backup_keep)
    except (backup.BackupError, OSError) as exc:
        log.error("daily backup failed: %s", exc)
        return
    log.info("daily backup written: %s", made)
