"""The one error handler: log with the update id, apologise in Persian, tell the admins."""

from __future__ import annotations

import html
import logging
import traceback

from telegram import Update
from telegram.error import TelegramError

from bot.context import CustomContext

log = logging.getLogger(__name__)


async def error_handler(update: object, context: CustomContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                context.tr._("Sorry, something went wrong on our side. Nothing you sent was "
                             "lost; please try again in a minute."))
        except TelegramError:
            log.warning("could not tell chat %s about the error", update.effective_chat.id)
    admin_chat = context.deps.settings.admin_chat_id
    if admin_chat is not None and context.error is not None:
        trace = "".join(traceback.format_exception(context.error))[-3000:]
        try:
            await context.bot.send_message(
                admin_chat, f"⚠️ update {update_id}\n<pre>{html.escape(trace)}</pre>",
                parse_mode="HTML")
        except TelegramError:
            log.warning("could not report the error to the admin chat")
