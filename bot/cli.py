"""Tool commands of `python -m bot` besides running the bot: `invite` creates the first
invites without any chat, `import-places` loads a places CSV."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.config import Settings
from bot.ops import commands as ops


def _house_codes() -> str:
    """The codes in data/houses.csv (the houses table is loaded from it at every start)."""
    from bot.reference import HouseRow, ImportError_, data_file, read_rows

    try:
        return " | ".join(row.code for row in read_rows(data_file("houses.csv"), HouseRow))
    except ImportError_:
        return "see data/houses.csv"


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", required=True, choices=["mayor", "staff", "supervisor"])
    parser.add_argument("--house", help=f"house code (staff, supervisor): {_house_codes()}")
    area = parser.add_mutually_exclusive_group(required=True)
    area.add_argument("--neighbourhoods", help="comma-separated neighbourhood codes")
    area.add_argument("--city", help="city code (staff, supervisor)")
    area.add_argument("--province", help="province code (supervisor)")
    parser.add_argument("--days", type=int, default=7, help="days until the link expires")
    parser.add_argument("--bot-username", default=os.environ.get("BOT_USERNAME"),
                        help="the bot's @username for the link (default: $BOT_USERNAME)")


def invite_argument_problem(args: argparse.Namespace) -> str | None:
    """Mistakes the service would take silently (or word for a chat user)."""
    if not args.bot_username:
        return "give --bot-username or set BOT_USERNAME"
    if args.days < 1:
        return f"--days must be at least 1 (got {args.days}): the link would already be expired"
    if args.role == "mayor" and args.house:
        return "a mayor invite takes no --house (a mayor sees every house's requests)"
    if args.role != "mayor" and not (args.house or "").strip():
        return f"a {args.role} invite needs --house ({_house_codes()})"
    return None


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.deps import Deps
    from bot.i18n import translator
    from bot.outbox_queue import OutboxQueue
    from bot.services.admin import new_invite
    from bot.services.reference import load_reference
    from bot.services.roles import InviteError, invite_link
    from bot.ui.errors import refused_text
    from storage.db import Database

    if problem := invite_argument_problem(args):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    area = (args.neighbourhoods or (f"city:{args.city}" if args.city else
                                    f"province:{args.province}"))
    db = Database(settings.database_path)
    await db.open()
    clock = SystemClock()
    deps = Deps(settings=settings, db=db, clock=clock, outbox=OutboxQueue(db, clock))
    try:
        await load_reference(db)
        invite = await new_invite(deps, args.role, args.house, area, created_by=None,
                                  days=args.days)
    except InviteError as exc:
        print(f"error: {refused_text(translator('en'), exc)}", file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(invite_link(args.bot_username.lstrip("@"), invite.code))
    return 0


def _configure_places(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path)


async def _run_places(settings: Settings, args: argparse.Namespace) -> int:
    return await _import_places(settings, args.file)


async def _import_places(settings: Settings, path: Path) -> int:
    from bot.reference import ImportError_
    from bot.services.reference import import_places, load_reference
    from storage.db import Database

    db = Database(settings.database_path)
    await db.open()
    try:
        await load_reference(db)
        count = await import_places(db, path)
        if count == 0:
            raise ImportError_(path, ["no rows: the file has only a header"])
    except ImportError_ as exc:
        if len(exc.problems) == 1:
            print(f"{exc.path}: nothing imported: {exc.problems[0]}", file=sys.stderr)
        else:
            print(f"{exc.path}: nothing imported:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(f"imported {count} neighbourhoods from {path}")
    return 0


def _configure_copy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", required=True, metavar="URL",
                        help="sqlite:///path/file.sqlite3 or postgresql://user:pass@host/db")
    parser.add_argument("--to", dest="target", required=True, metavar="URL",
                        help="the target, migrated to the source's schema version and empty")
    parser.add_argument("--replace", action="store_true",
                        help="delete the target's rows first (in the copy's transaction)")


def _bot_running_on(url: str) -> str | None:
    """A bot holding a SQLite target's lock file would write into the copy (PostgreSQL: the
    copy checks the leader's lease itself)."""
    from bot.ops.lock import is_running
    from storage.url import DatabaseUrlError, parse_database_url

    try:
        parsed = parse_database_url(url)
    except DatabaseUrlError:
        return None          # copy_database says what is wrong with it
    if parsed.dialect == "sqlite" and parsed.path != ":memory:" \
            and is_running(Path(parsed.path)):
        return f"a bot is running on the target {parsed.path}; stop it first"
    return None


async def _run_copy(settings: Settings, args: argparse.Namespace) -> int:
    from storage.copy import CopyFailed, CopyRefused, copy_database, redact, report_lines

    if problem := _bot_running_on(args.target):
        print(f"copy-db: {problem}", file=sys.stderr)
        return 2
    print(f"copying {redact(args.source)} -> {redact(args.target)}", flush=True)
    try:
        result = await copy_database(args.source, args.target, replace=args.replace,
                                     progress=lambda line: print(line, flush=True))
    except CopyRefused as exc:
        print(f"copy-db: {exc}", file=sys.stderr)
        return 2
    except CopyFailed as exc:
        print(f"copy-db: failed, the target was not changed: {exc}", file=sys.stderr)
        return 1
    for line in report_lines(result):
        print(line)
    for note in result.notes:
        print(note)
    rows = sum(t.target_rows for t in result.tables)
    if not result.ok:
        bad = [t.name for t in result.tables if not t.ok]
        print(f"copy-db: verification failed for {', '.join(bad) or 'the commit'}; "
              "the target was not changed", file=sys.stderr)
        return 1
    print(f"copied {len(result.tables)} tables, {rows:,} rows in {result.seconds:.1f} s; "
          "row counts and checksums match")
    return 0


# name -> (help, configure the sub-parser, run); `python -m bot` adds one sub-command each.
SubcommandRun = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]
SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], SubcommandRun]] = {
    **ops.SUBCOMMANDS,
    "copy-db": ("copy every table between SQLite and PostgreSQL (either way) into an empty "
                "target at the same schema version, then verify counts and checksums",
                _configure_copy, _run_copy),
    "import-places": ("validate and import a places CSV (columns as data/places.csv); nothing "
                      "is imported if a row is bad", _configure_places, _run_places),
    "invite": ("create a one-time invite link for a mayor, staff member or supervisor",
               _configure, _run),
}
