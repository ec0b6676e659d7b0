"""`python -m bot`: run the bot (the local sandbox when no BOT_TOKEN is set) or a tool command."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli import SUBCOMMANDS
from bot.config import ConfigError, describe_variables, load_settings
from bot.ops.logs import setup_logging
from bot.ops.preflight import database_problem, port_problem
from bot.reference import calendar_problem


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Mahalleyar: the neighbourhood requests bot. With no command it runs the "
                    "bot; with no BOT_TOKEN it starts the local sandbox (emulator + web chat).",
        epilog="Configuration (environment variables or a .env file):\n" + describe_variables(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (default)")
    for name, (text, configure, _) in SUBCOMMANDS.items():
        configure(sub.add_parser(name, help=text))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    command = args.command or "run"
    setup_logging(settings, tool=command in SUBCOMMANDS)
    if command in SUBCOMMANDS:
        return asyncio.run(SUBCOMMANDS[command][2](settings, args))
    # A bad holidays-extra.csv or office-hours.csv stops the start, in one line.
    if problem := calendar_problem(settings.tz, settings.week):
        print(problem, file=sys.stderr)
        return 2
    if settings.sandbox:
        from bot.sandbox.run import run_sandbox

        for problem in (database_problem(settings.sandbox_database_path,
                                         "SANDBOX_DATABASE_PATH"),
                        port_problem(settings.sandbox_host, settings.sandbox_port,
                                     "SANDBOX_PORT")):
            if problem:
                print(problem, file=sys.stderr)
                return 2
        return asyncio.run(run_sandbox(settings))
    from bot.ops.runtime import run_bot

    return run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())
