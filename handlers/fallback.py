"""Last resort replies: whatever no feature understood gets a helpful answer, never silence."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.context import CustomContext
from bot.ui.menus import main_menu

TEXT_LIMIT_HINT = 4000


async def unknown_command(update: Update, context: CustomContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.tr._("I don't know that command. Send /help to see what I can do, or use "
                     "the menu below."), reply_markup=main_menu(context.tr))


async def unknown_text(update: Update, context: CustomContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.tr._("I didn't understand that. To send a request press «📝 New request»; "
                     "to see your requests press «📋 My requests»."),
        reply_markup=main_menu(context.tr))


async def unsupported(update: Update, context: CustomContext) -> None:
    """Stickers, GIFs, polls, dice...: say what we accept instead."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.tr._("I can only read text here. Please write in words what you need, "
                     "or use the menu below."), reply_markup=main_menu(context.tr))


async def stale_button(update: Update, context: CustomContext) -> None:
    """A button from an old or finished menu, or forged data: never act on it."""
    query = update.callback_query
    assert query is not None
    await query.answer(context.tr._("This menu has expired. Please use the menu below."),
                       show_alert=False)
    if query.message is not None:
        await context.bot.send_message(query.message.chat.id,
                                       context.tr._("This menu has expired. Main menu:"),
                                       reply_markup=main_menu(context.tr))


_PRIVATE = filters.ChatType.PRIVATE

HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    MessageHandler(filters.COMMAND & _PRIVATE, unknown_command),
    MessageHandler(filters.TEXT & _PRIVATE, unknown_text),
    MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & _PRIVATE, unsupported),
    CallbackQueryHandler(stale_button),
]
