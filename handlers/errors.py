"""The one error handler: log with the update id, apologise in Persian, tell the admins."""

from __future__ import annotations

import html
import logging
import traceback

from telegram import Update
from telegram.error import Conflict, TelegramError

from bot.context import CustomContext
from bot.fence import NotLeader
from bot.services import people as people_svc
from bot.telegram_errors import Verdict, classify

log = logging.getLogger(__name__)


async def error_handler(update: object, context: CustomContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(context.error, NotLeader):
        return      # this process stopped leading mid-update; the new leader handles it again
    if update is None and isinstance(context.error, Conflict):
        # Polling met another getUpdates: during a takeover the old leader's last long poll
        # may still be open for a moment. PTB retries; one line, no traceback, no alert.
        log.warning("getUpdates conflict (another poller for a moment?): %s", context.error)
        return
    if context.error is not None and await _telegram_said(update, context, update_id):
        return
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


async def _telegram_said(update: object, context: CustomContext, update_id: int | None
                         ) -> bool:
    """A direct reply Telegram refused for a known reason: one log line, no apology that
    could not arrive either. True when handled."""
    assert context.error is not None
    found = classify(context.error)
    chat = update.effective_chat if isinstance(update, Update) else None
    if found.verdict is Verdict.UNREACHABLE:
        log.info("update %s: the chat blocked the bot (%s)", update_id, found.reason)
        if chat is not None and chat.id > 0:
            await people_svc.mark_unreachable(context.deps, chat.id)
        return True
    if found.verdict in (Verdict.TRANSIENT, Verdict.RETRY_AFTER):
        log.warning("update %s: Telegram did not take the reply (%s)", update_id, found.reason)
        return True
    return False
