"""`python -m bot backup|restore|migrate|check|health`: one line per result.

backup, restore, check and health never migrate the database; `migrate` backs a SQLite
file up first. backup and restore are for SQLite files (PostgreSQL has pg_dump)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from bot.config import OFFICIAL_API_HOSTS, Settings
from bot.ops import backup as backups
from bot.ops.lock import heartbeat_age, is_running, lock_anchor
from bot.ops.preflight import (
    StartError,
    TokenRejected,
    api_host,
    ask_get_me,
    database_problem,
    known_schema_version,
    postgres_problem,
    postgres_schema_version,
    proxy_for,
)

HEALTHY_HEARTBEAT_SECONDS = 120.0


def _err(line: str, code: int = 1) -> int:
    print(line, file=sys.stderr)
    return code


def configure_backup(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="new file (or an existing folder)")


def _sqlite_only(settings: Settings, command: str) -> int | None:
    if settings.database.dialect == "sqlite":
        return None
    return _err(f"{command}: DATABASE_URL is PostgreSQL ({settings.database.where}): use the "
                f"server's tools (pg_dump / pg_restore); `{command}` handles SQLite files", 2)


async def run_backup(settings: Settings, args: argparse.Namespace) -> int:
    if (code := _sqlite_only(settings, "backup")) is not None:
        return code
    try:
        made = backups.backup(settings.database_path, args.path)
    except backups.BackupError as exc:
        return _err(f"backup: {exc}")
    print(f"backup written: {made}")
    return 0


def configure_restore(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="a file written by `backup`")


async def run_restore(settings: Settings, args: argparse.Namespace) -> int:
    if (code := _sqlite_only(settings, "restore")) is not None:
        return code
    try:
        backups.restore(args.path, settings.database_path, known_schema_version())
    except backups.BackupError as exc:
        return _err(f"restore: {exc}")
    print(f"restored {settings.database_path} from {args.path}")
    return 0


def configure_migrate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backup-to", type=Path, default=None,
                        help="where the backup taken first goes (default: BACKUP_DIR, else "
                             "next to the database)")


async def run_migrate(settings: Settings, args: argparse.Namespace) -> int:
    """Apply the pending migrations; print the schema version. A schema newer than this
    program: one line, exit 2 (both backends)."""
    if settings.database.dialect == "postgresql":
        return await _migrate_postgres(settings)
    database = settings.database_path
    if is_running(database):
        return _err(f"migrate: the bot is running on {database}; stop it first")
    known = known_schema_version()
    if not database.exists():
        return _err(f"migrate: {database} does not exist (the bot creates it at first start)")
    try:
        version = backups.schema_version(database)
    except backups.BackupError as exc:
        return _err(f"migrate: {exc}")
    if version > known:
        return _err(f"migrate: {database} has schema version {version}, newer than this "
                    f"program ({known}); run the newer version", 2)
    if version == known:
        print(f"{database}: schema version {version} is current; nothing to do")
        return 0
    target = args.backup_to or settings.backup_dir or database.parent
    if target.is_dir() or target == settings.backup_dir:
        target.mkdir(parents=True, exist_ok=True)
        target = target / f"{database.name}.before-migrate-{datetime.now():%Y%m%d-%H%M%S}"
    try:
        made = backups.backup(database, target)
    except backups.BackupError as exc:
        return _err(f"migrate: no backup, nothing changed: {exc}")
    from storage.db import Database

    db = Database(database)
    await db.open()   # migrates
    await db.close()
    print(f"{database}: migrated from schema version {version} to {known}; "
          f"backup of the old one: {made} (go back: python -m bot restore {made})")
    return 0


async def _migrate_postgres(settings: Settings) -> int:
    """PostgreSQL: no file backup (that is pg_dump's job); the migrations run under an
    advisory lock, so a bot starting meanwhile waits and then finds them applied."""
    from storage.db import DatabaseUnavailable, SchemaTooNew
    from storage.pg import PgDatabase

    url = settings.database
    known = known_schema_version("postgresql")
    db = PgDatabase(url)
    try:
        await db.open(migrate=False)
        before = await db.schema_version()
        if before > known:
            return _err(f"migrate: {url.where} has schema version {before}, newer than this "
                        f"program ({known}); run the newer version", 2)
        after = await db.migrate()
    except DatabaseUnavailable as exc:
        return _err(f"migrate: {exc}", 2)
    except SchemaTooNew as exc:
        return _err(f"migrate: {url.where}: {exc}", 2)
    finally:
        await db.close()
    if before == after:
        print(f"postgresql {url.where}: schema version {after} is current; nothing to do")
    else:
        print(f"postgresql {url.where}: migrated from schema version {before} to {after}")
    return 0


def configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=10.0, help="Bot API timeout, seconds")


async def run_check(settings: Settings, args: argparse.Namespace) -> int:
    """Settings, database, Bot API: one line each; exit 1 if any is not ok."""
    lines = [_settings_line(settings), await _database_line(settings)]
    if settings.database.dialect == "postgresql":     # SQLite: one process, the line above
        lines.append(await _leader_line(settings))
    lines.append(_api_line(settings, args))
    for ok, line in lines:
        print(f"{'ok  ' if ok else 'FAIL'} {line}")
    return 0 if all(ok for ok, _ in lines) else 1


def _settings_line(settings: Settings) -> tuple[bool, str]:
    mode = (f"webhook {settings.webhook_url} (listening on {settings.webhook_listen}:"
            f"{settings.webhook_port}{', secret set' if settings.webhook_secret else ''})"
            if settings.webhook_url else "polling")
    if settings.sandbox:
        mode = "no BOT_TOKEN: `python -m bot` starts the local sandbox"
    extras = []
    if settings.metrics_port:
        extras.append(f"metrics on {settings.metrics_host}:{settings.metrics_port}")
    if settings.backup_dir:
        extras.append(f"daily backup at {settings.backup_time} to {settings.backup_dir}, "
                      f"keeping {settings.backup_keep}")
    return True, "settings: " + "; ".join([mode, *extras])


async def _postgres_line(settings: Settings) -> tuple[bool, str]:
    from storage.db import DatabaseUnavailable

    url = settings.database
    known = known_schema_version("postgresql")
    try:
        version = await postgres_schema_version(url)
    except DatabaseUnavailable as exc:
        return False, f"database: {exc}"
    where = f"postgresql {url.where}"
    if version > known:
        return False, (f"database: {where} has schema version {version}, newer than this "
                       f"program ({known})")
    state = ("current" if version == known else
             "empty: migrated at first start or by `python -m bot migrate`" if version == 0
             else f"needs `python -m bot migrate` to {known}")
    return True, f"database: {where}, schema version {version} ({state})"


async def _database_line(settings: Settings) -> tuple[bool, str]:
    if settings.database.dialect == "postgresql":
        return await _postgres_line(settings)
    database = settings.database_path
    known = known_schema_version()
    if not database.exists():
        problem = None if database.parent.is_dir() else \
            f"DATABASE_PATH: the folder {database.parent} does not exist"
        return (problem is None,
                problem or f"database: {database} does not exist yet (created at first start)")
    try:
        version = backups.schema_version(database)
    except backups.BackupError as exc:
        return False, f"database: {exc}"
    running = "a bot is running on it" if is_running(database) else "no bot running on it"
    if version > known:
        return False, (f"database: {database} has schema version {version}, newer than this "
                       f"program ({known})")
    state = "current" if version == known else f"needs `python -m bot migrate` to {known}"
    return True, (f"database: sqlite {database}, schema version {version} ({state}), "
                  f"{running}")


async def _leader_line(settings: Settings) -> tuple[bool, str]:
    """Who works on PostgreSQL: the process holding the leadership (bot/ops/leader.py)."""
    from bot.ops.leader import describe_leader

    return await describe_leader(settings.database.dsn)


def _api_line(settings: Settings, args: argparse.Namespace) -> tuple[bool, str]:
    if settings.bot_token is None:
        return True, "bot api: not used (no BOT_TOKEN)"
    host = api_host(settings)
    proxy = proxy_for(settings.bot_api_base_url)
    server = ("official server" if any(h in host for h in OFFICIAL_API_HOSTS)
              else "local/self-hosted Bot API server")
    route = f"{host} ({server}, {'via proxy ' + proxy if proxy else 'no proxy'})"
    try:
        answer = ask_get_me(settings, timeout=args.timeout)
    except TokenRejected as exc:
        return False, f"bot api: {route}: {exc}"
    except StartError as exc:
        return False, f"bot api: {route}: {exc}"
    if answer.ok:
        return True, f"bot api: @{answer.username} at {route}"
    return False, f"bot api: {answer.detail} ({server}, " \
                  f"{'via proxy ' + proxy if proxy else 'no proxy'})"


def configure_health(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-age", type=float, default=HEALTHY_HEARTBEAT_SECONDS,
                        help="seconds since the bot's last heartbeat")


async def run_health(settings: Settings, args: argparse.Namespace) -> int:
    """For a container HEALTHCHECK: the bot process itself (database answering, event loop
    and update fetching alive), never Telegram, so an outage is not a restart loop."""
    age = heartbeat_age(lock_anchor(settings))
    if age is None:
        return _err(f"unhealthy: no bot is running on {settings.database.where}")
    if age > args.max_age:
        return _err(f"unhealthy: last heartbeat {age:.0f} s ago")
    url = settings.database
    if problem := (await postgres_problem(url) if url.dialect == "postgresql" else
                   database_problem(settings.database_path)):
        return _err(f"unhealthy: {problem}")
    print(f"healthy: heartbeat {age:.0f} s ago")
    return 0


SUBCOMMANDS = {
    "backup": ("write a consistent copy of the database (also while the bot runs), mode 0600",
               configure_backup, run_backup),
    "restore": ("replace the database with a backup (refused while the bot runs)",
                configure_restore, run_restore),
    "migrate": ("bring the database's schema up to date and print its version (SQLite: "
                "backs the file up first)",
                configure_migrate, run_migrate),
    "check": ("check the settings, the database and the Bot API connection; one line each",
              configure_check, run_check),
    "health": ("exit 0 if the running bot's heartbeat is recent (for container health checks)",
               configure_health, run_health),
}
