"""/start, /help, /language, /cancel and the main menu's simple buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.config import SUPPORTED_LOCALES
from bot.context import CustomContext
from bot.i18n import translator
from bot.services import people as people_svc
from bot.ui import resident as resident_ui
from bot.ui.buttons import SetLanguage
from bot.ui.menus import MenuItem, all_labels, main_menu
from bot.ui.resident import language_keyboard
from handlers.command_menus import sync_commands


def welcome_text(context: CustomContext) -> str:
    tr = context.tr
    hours = tr.digits(context.deps.settings.response_window_hours)
    return tr._(
        "Hello {name}! I am Mahalleyar, the requests bot of your neighbourhood.\n\n"
        "Here you can send a need, a complaint or a suggestion. Your neighbourhood mayor "
        "passes it to the right one of the four service houses: Welfare (Behzisti), "
        "Relief (Emdad), Ehsan and Red Crescent (Helal).\n\n"
        "⏱ Every request gets an answer within {hours} hours. You get a tracking code and "
        "a message at every change.\n\n"
        "To start, press «📝 New request»."
    ).format(name=context.person.first_name if context.person else "", hours=hours)


def consent_text(context: CustomContext) -> str:
    return resident_ui.consent_text(context.tr, context.deps.settings.retention_days)


async def start(update: Update, context: CustomContext) -> None:
    """Welcome with the main menu: one message. People who have not agreed yet get the
    consent question when they press «📝 New request» (before anything is filed)."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(welcome_text(context), reply_markup=main_menu(context.tr))


def help_text(context: CustomContext) -> str:
    tr = context.tr
    parts = [tr._(
        "How to use Mahalleyar:\n"
        "📝 New request (/new): choose what it is about and describe it; you get a "
        "tracking code.\n"
        "📋 My requests (/my): see every request, its answers and its deadline; add a "
        "message or withdraw it.\n"
        "/status CODE: the state of one request.\n"
        "📍 My neighbourhood (/neighbourhood): change your neighbourhood.\n"
        "🌐 /language: فارسی or English.\n"
        "/cancel: stop what you are doing at any step.")]
    parts.append(tr._("/claim CODE: a request filed for you at a field visit (the code on "
                      "your receipt)."))
    parts.append(tr._("🔒 /forget_me: erase your personal data (open requests are withdrawn "
                      "first)."))
    if context.has_role("mayor"):
        parts.append(tr._(
            "For neighbourhood mayors:\n"
            "/inbox: new requests of your neighbourhoods; re-route them to the right house, "
            "mark duplicates, add internal notes.\n"
            "/route CODE HOUSE reason · /duplicate CODE ORIGINAL · /note CODE text · "
            "/show CODE · /files CODE"))
        parts.append(tr._("/urgent CODE reason · /noturgent CODE: mark a request urgent "
                          "(answered within {hours} hours) or not.").format(
            hours=tr.digits(context.deps.settings.urgent_window_hours)))
    if context.has_role("staff", "supervisor"):
        parts.append(tr._(
            "For house staff:\n"
            "/queue · /show CODE · /take CODE · /reply CODE text · /ask CODE question · "
            "/note CODE text · /transfer CODE HOUSE reason · /close CODE · /reopen CODE · "
            "/overdue · /search text · /templates · /stats · /export · /files CODE"))
    if context.has_role("mayor", "staff", "supervisor"):
        parts.append(tr._(
            "Field visits: /visit files requests for residents who are not on Telegram, "
            "each with a receipt to hand over; /visit end closes it with a summary and all "
            "receipts. /handover CODE: a one-time link for a request without a phone."))
    if context.has_role("admin"):
        parts.append(tr._(
            "For admins:\n"
            "/invite: create an invite link for a mayor, staff member or supervisor · "
            "/roles: who has which role · /revoke: take a role away"))
    return "\n\n".join(parts)


async def help_command(update: Update, context: CustomContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(help_text(context),
                                              reply_markup=main_menu(context.tr))


async def language(update: Update, context: CustomContext) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.tr._("Choose your language:"), reply_markup=language_keyboard())


async def set_language(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    item = SetLanguage.unpack(query.data)
    locale = item.locale if item else None
    if locale is None or locale not in SUPPORTED_LOCALES:
        await query.answer(context.tr._("This menu has expired."))
        return
    deps = context.deps
    await people_svc.set_language(deps, query.from_user.id, locale)
    same_menu = context.tr.locale == locale    # the keyboard they have is already right
    context.tr = translator(locale)
    if context.roles:   # their role menu follows the language too
        await sync_commands(context.bot, deps, query.from_user.id, locale)
    await query.answer()
    await query.edit_message_text(context.tr._("Language set to English.")
                                  if locale == "en" else context.tr._("Language set to Persian."))
    if query.message is not None and not same_menu:
        await context.bot.send_message(query.message.chat.id, context.tr._("Main menu:"),
                                       reply_markup=main_menu(context.tr))


async def cancel(update: Update, context: CustomContext) -> None:
    """/cancel outside any form: nothing to stop, show the menu."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        context.tr._("There is nothing to cancel. What would you like to do?"),
        reply_markup=main_menu(context.tr))


def _menu(item: MenuItem) -> filters.BaseFilter:
    return filters.Text(all_labels(item))


HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("start", start),
    CommandHandler("help", help_command),
    MessageHandler(_menu(MenuItem.HELP), help_command),
    CommandHandler("language", language),
    MessageHandler(_menu(MenuItem.LANGUAGE), language),
    CallbackQueryHandler(set_language, pattern=SetLanguage.pattern()),
    CommandHandler("cancel", cancel),
]
