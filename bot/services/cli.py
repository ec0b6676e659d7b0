"""`python -m bot invite ...`: create the first invites without any chat."""

from __future__ import annotations

import argparse
import os
import sys

from bot.__main__ import SUBCOMMANDS
from bot.clock import SystemClock
from bot.config import Settings


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", required=True, choices=["mayor", "staff", "supervisor"])
    parser.add_argument("--house", help="welfare | relief | ehsan | redcrescent")
    area = parser.add_mutually_exclusive_group(required=True)
    area.add_argument("--neighbourhoods", help="comma-separated neighbourhood codes")
    area.add_argument("--city", help="city code (staff, supervisor)")
    area.add_argument("--province", help="province code (supervisor)")
    parser.add_argument("--days", type=int, default=7, help="days until the link expires")
    parser.add_argument("--bot-username", default=os.environ.get("BOT_USERNAME"),
                        help="the bot's @username for the link (default: $BOT_USERNAME)")


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.deps import Deps
    from bot.i18n import translator
    from bot.outbox import Outbox
    from bot.services.admin import new_invite
    from bot.services.reference import load_reference
    from bot.services.roles import InviteError, invite_link
    from storage.db import Database

    if not args.bot_username:
        print("error: give --bot-username or set BOT_USERNAME", file=sys.stderr)
        return 2
    area = (args.neighbourhoods or (f"city:{args.city}" if args.city else
                                    f"province:{args.province}"))
    db = Database(settings.database_path)
    await db.open()
    clock = SystemClock()
    deps = Deps(settings=settings, db=db, clock=clock, outbox=Outbox(db, clock))
    try:
        await load_reference(db)
        invite = await new_invite(deps, args.role, args.house, area, created_by=None,
                                  days=args.days)
    except InviteError as exc:
        print(f"error: {exc.render(translator('en'))}", file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(invite_link(args.bot_username.lstrip("@"), invite.code))
    return 0


_ENTRY = ("create a one-time invite link for a mayor, staff member or supervisor",
          _configure, _run)
SUBCOMMANDS["invite"] = _ENTRY
# `python -m bot` runs bot/__main__.py as `__main__`, a different module object.
_running = sys.modules.get("__main__")
if _running is not None and isinstance(getattr(_running, "SUBCOMMANDS", None), dict):
    _running.SUBCOMMANDS["invite"] = _ENTRY
