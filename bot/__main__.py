"""`python -m bot`: run the bot (the local sandbox when no BOT_TOKEN is set) or a tool command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, describe_variables, load_settings

# Extra sub-commands registered by feature modules: name -> (help, configure, run).
SubcommandRun = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]
SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], SubcommandRun]] = {}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Mahalleyar: the neighbourhood requests bot. With no command it runs the "
                    "bot; with no BOT_TOKEN it starts the local sandbox (emulator + web chat).",
        epilog="Configuration (environment variables or a .env file):\n" + describe_variables(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (default)")
    places = sub.add_parser("import-places", help="validate and import a places CSV "
                            "(columns as data/places.csv); nothing is imported if a row is bad")
    places.add_argument("file", type=Path)
    for name, (text, configure, _) in SUBCOMMANDS.items():
        configure(sub.add_parser(name, help=text))
    return parser


def _load_subcommands() -> None:
    """Feature modules that add CLI commands (e.g. `invite`) register themselves here."""
    import importlib

    for module in ("bot.services.cli",):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> int:
    _load_subcommands()
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    command = args.command or "run"
    if command == "import-places":
        return asyncio.run(_import_places(settings, args.file))
    if command in SUBCOMMANDS:
        return asyncio.run(SUBCOMMANDS[command][2](settings, args))
    if settings.sandbox:
        from bot.sandbox.run import run_sandbox

        return asyncio.run(run_sandbox(settings))
    from bot.app import build_application

    build_application(settings).run_polling(allowed_updates=None)
    return 0


async def _import_places(settings: Settings, path: Path) -> int:
    from bot.reference import ImportError_
    from bot.services.reference import import_places, load_reference
    from storage.db import Database

    db = Database(settings.database_path)
    await db.open()
    try:
        await load_reference(db)
        count = await import_places(db, path)
    except ImportError_ as exc:
        print(f"{exc.path}: nothing imported:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(f"imported {count} neighbourhoods from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
