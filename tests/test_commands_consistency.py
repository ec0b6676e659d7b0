"""Menus, handlers and /help agree: every command in a role's Telegram menu
(bot/ui/commands.py) has a CommandHandler in the built application, every handled command is
in a menu, and each role's /help mentions every command of that role's menu.

The exemptions below are decisions, each with its reason; anything else that drifts apart
fails here.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler

from bot.app import build_application
from bot.config import Settings
from bot.ui.commands import ADMIN_COMMANDS, COMMANDS, MAYOR_COMMANDS, STAFF_COMMANDS
from tests.harness import Harness, start_harness, stop_harness
from tests.staff_helpers import add_role, texts

# Handled, but in no menu (and so in no /help).
NOT_IN_A_MENU: dict[str, str] = {
    "bind": "group-only: a staff member binds a group chat to a house; menus are per private "
            "chat, and the group is told how to use it when the bot is added",
    "unbind": "group-only, like bind",
}
# In a menu, but not spelled out in that role's /help.
NOT_IN_HELP: dict[str, str] = {
    "start": "how every chat begins; its deep-link payloads (/start n_CODE for a "
             "neighbourhood poster, /start inv_CODE for an invite) are the same command with "
             "a filter, not commands a person types",
    "help": "the help text does not list itself",
}
# /cancel needs no exemption: it is a fallback of the resident conversation AND a plain
# handler, in the resident menu and in the resident /help.

ROLE_MENUS: dict[str, list[tuple[str, str]]] = {
    "resident": COMMANDS,
    "mayor": MAYOR_COMMANDS,
    "staff": STAFF_COMMANDS,
    "supervisor": STAFF_COMMANDS,
    "admin": ADMIN_COMMANDS,
}

AnyHandler = BaseHandler[Any, Any, Any]


def _command_handlers(handlers: Iterable[AnyHandler]) -> Iterator[CommandHandler[Any, Any]]:
    """Every CommandHandler, including a ConversationHandler's entry points, states and
    fallbacks (and conversations nested in them)."""
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            yield from _command_handlers(handler.entry_points)
            for state in handler.states.values():
                yield from _command_handlers(state)
            yield from _command_handlers(handler.fallbacks)
        elif isinstance(handler, CommandHandler):
            yield handler


def _handled(tmp_path: Path) -> set[str]:
    settings = Settings(_env_file=None, bot_token="123456:TEST",
                        database_path=tmp_path / "unused.sqlite3")
    app = build_application(settings)
    return {command for group in app.handlers.values()
            for handler in _command_handlers(group) for command in handler.commands}


def _menus() -> set[str]:
    return {name for menu in ROLE_MENUS.values() for name, _ in menu}


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")
def test_every_menu_command_has_a_handler(tmp_path: Path) -> None:
    assert _menus() - _handled(tmp_path) == set()


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBUserWarning")
def test_every_handled_command_is_in_a_menu(tmp_path: Path) -> None:
    handled = _handled(tmp_path)
    assert handled - _menus() - set(NOT_IN_A_MENU) == set()
    # The exemptions are not stale: each is still handled and still in no menu.
    assert set(NOT_IN_A_MENU) <= handled and not set(NOT_IN_A_MENU) & _menus()
    assert set(NOT_IN_HELP) <= _menus()


ADMIN, MAYOR, STAFF, SUPERVISOR, RESIDENT = 8301, 8302, 8303, 8304, 8305


@pytest.fixture
async def hr(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    harness = await start_harness(tmp_path, admin_ids=[ADMIN], database_url=database_url)
    try:
        harness.user(ADMIN, "مدیر")
        harness.user(RESIDENT, "زهرا")
        await add_role(harness, MAYOR, "mayor", None, "neighbourhood", "ISL01", "مریم")
        await add_role(harness, STAFF, "staff", "welfare", "neighbourhood", "ISL01", "علی")
        await add_role(harness, SUPERVISOR, "supervisor", "welfare", "city", "islamshahr",
                       "حسن")
        yield harness
    finally:
        await stop_harness(harness)


def _mentions(text: str, command: str) -> bool:
    return re.search(rf"/{command}(?![A-Za-z0-9_])", text) is not None


@pytest.mark.parametrize("locale", ["fa", "en"])
async def test_help_of_each_role_mentions_its_menu(hr: Harness, locale: str) -> None:
    people = {"resident": RESIDENT, "mayor": MAYOR, "staff": STAFF, "supervisor": SUPERVISOR,
              "admin": ADMIN}
    missing: dict[str, list[str]] = {}
    for role, person in people.items():
        if locale != "fa":
            await hr.send(person, "/language")
            await hr.press(person, hr.last(person), "English")
        help_text = texts(await hr.send(person, "/help"))
        assert ("How to use" in help_text) is (locale == "en")
        for menu in (COMMANDS, ROLE_MENUS[role]):     # a role's /help adds to the resident's
            gaps = [name for name, _ in menu
                    if name not in NOT_IN_HELP and not _mentions(help_text, name)]
            if gaps:
                missing.setdefault(role, []).extend(gaps)
    assert missing == {}
