"""Runs right after `handlers.common` for every update: what is never processed as input.

- An update without a person (`from` missing: channel posts, forged updates) or from a bot
  (an anonymous group admin) is dropped; a button press among them is answered empty.
- An **edited** message is never processed again (an edited `/reply CODE text` would answer
  twice): the editor is told once per message that edits are not passed on.
- Resident flows run only in private chats, where nobody else reads them: in a group a
  resident command or button gets one line pointing to the private chat, and other plain
  messages (not replies to the bot, which staff use for prompts) are ignored.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.context import CustomContext

log = logging.getLogger(__name__)

GROUP = -90

# Commands and button namespaces of the resident's private conversation.
RESIDENT_COMMANDS = frozenset({"start", "new", "my", "status", "neighbourhood", "language",
                               "claim", "forget_me"})
RESIDENT_BUTTONS = frozenset({"new", "place", "my", "rate", "consent", "lang", "forget"})
_EDITS_TOLD = "edits_told"
_EDITS_KEPT = 2000


async def guard(update: Update, context: CustomContext) -> None:
    user = update.effective_user
    if user is None or user.is_bot:
        if update.callback_query is not None:
            await _answer(update)
        raise ApplicationHandlerStop
    if update.edited_message is not None or update.edited_channel_post is not None:
        await _edited(update, context)
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    if _resident_command(update) or _resident_button(update):
        await _private_only(update, context)
        raise ApplicationHandlerStop
    message = update.message
    if (message is not None and message.reply_to_message is None
            and not (message.text or "").startswith("/")):
        raise ApplicationHandlerStop      # group chatter and media: not for the bot


def _resident_command(update: Update) -> bool:
    message = update.message
    text = (message.text or "") if message is not None else ""
    if not text.startswith("/"):
        return False
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    return name in RESIDENT_COMMANDS


def _resident_button(update: Update) -> bool:
    query = update.callback_query
    if query is None or not query.data:
        return False
    return query.data.split(":", 1)[0] in RESIDENT_BUTTONS


async def _private_only(update: Update, context: CustomContext) -> None:
    tr = context.tr
    try:
        username: str | None = context.bot.username
    except RuntimeError:        # not initialised (getMe not done)
        username = None
    where = f"https://t.me/{username}" if username else tr._("my private chat")
    text = tr._("Requests are sent and followed in a private chat with me, where only you "
                "read them: {where}").format(where=where)
    if update.callback_query is not None:
        await _answer(update, text)
        return
    assert update.effective_chat is not None
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError as exc:
        log.info("could not point a group to the private chat: %s", exc)


async def _edited(update: Update, context: CustomContext) -> None:
    message = update.edited_message
    if message is None or message.chat.type == ChatType.CHANNEL:
        return
    told: dict[tuple[int, int], bool] = context.bot_data.setdefault(_EDITS_TOLD, {})
    key = (message.chat.id, message.message_id)
    if key in told:
        return
    if len(told) >= _EDITS_KEPT:
        told.clear()
    told[key] = True
    try:
        await message.reply_text(context.tr._(
            "Edited messages are not passed on. If something needs changing, please send "
            "it as a new message."))
    except TelegramError as exc:
        log.info("could not answer an edited message: %s", exc)


async def _answer(update: Update, text: str | None = None) -> None:
    assert update.callback_query is not None
    try:
        await update.callback_query.answer(text)
    except TelegramError as exc:
        log.info("could not answer a button press: %s", exc)


HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [TypeHandler(Update, guard)]
