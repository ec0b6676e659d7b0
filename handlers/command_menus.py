"""Each person's command menu in their private chat (Telegram calls, so not a use case)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.deps import Deps
from bot.i18n import translator
from bot.services.admin import menu_owner
from bot.ui.commands import menu

log = logging.getLogger(__name__)


async def sync_commands(bot: Bot, deps: Deps, person_id: int, locale: str | None = None
                        ) -> bool:
    """Give a person with a role their own command menu (resident + role commands, in their
    language) in their private chat; without a role, drop it so the default menu shows.
    A Telegram hiccup only costs the menu, never the role change: logged, not raised.
    Returns whether a role menu is now set."""
    owner = await menu_owner(deps, person_id)
    scope = BotCommandScopeChat(chat_id=person_id)
    try:
        if not owner.roles:
            await bot.delete_my_commands(scope=scope)
            return False
        tr = translator(locale or owner.locale or deps.settings.default_locale)
        await bot.set_my_commands(
            [BotCommand(name, text) for name, text in menu(tr, owner.roles)], scope=scope)
        return True
    except TelegramError as exc:
        log.warning("command menu of %s not updated: %s", person_id, exc)
        return False
