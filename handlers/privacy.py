"""The resident's say over their data: «No, thanks» under the consent, and /forget_me (with
a confirmation; open requests are withdrawn first)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import CustomContext
from bot.services import privacy
from bot.services import staff as houses_svc
from bot.ui.buttons import ConsentDecline, ForgetAction, ForgetMe
from bot.ui.menus import main_menu
from bot.ui.resident import declined_text, forget_question, forgotten_text
from handlers.fallback import stale_button


async def decline(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    houses = await houses_svc.houses(context.deps)
    if query.message is not None:
        await context.bot.send_message(query.message.chat.id,
                                       declined_text(context.tr, houses),
                                       reply_markup=main_menu(context.tr))


async def forget_command(update: Update, context: CustomContext) -> None:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    preview = await privacy.forget_preview(context.deps, user.id)
    text, markup = forget_question(context.tr, preview.open_codes, preview.total)
    await message.reply_text(text, reply_markup=markup)


async def on_forget(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    item = ForgetMe.unpack(query.data)
    if item is None:
        await stale_button(update, context)
        return
    await query.answer()
    tr = context.tr
    if item.action is ForgetAction.NO:
        await query.edit_message_text(tr._("Nothing was erased."))
        return
    done = await privacy.forget_me(context.deps, query.from_user.id)
    await query.edit_message_text(forgotten_text(tr, done.withdrawn, done.erased))


HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("forget_me", forget_command),
    CallbackQueryHandler(decline, pattern=ConsentDecline.pattern()),
    CallbackQueryHandler(on_forget, pattern=ForgetMe.pattern()),
]
