"""The resident's own requests: /my, /status, history, withdraw, replies to staff messages,
rating and "not resolved" after closure."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import CustomContext
from bot.domain.forms import ResidentForm
from bot.domain.limits import quote
from bot.domain.models import Ticket
from bot.domain.resident import Detail
from bot.domain.text import is_valid_tracking_code, normalize, normalize_tracking_code
from bot.services import resident_requests as requests
from bot.services.errors import Refused
from bot.services.resident_requests import ReopenTooLate
from bot.services.tickets import AttachmentIn
from bot.ui import callbacks
from bot.ui.buttons import MyAction, MyList, MyTicket, Rate, RateAction, RateButton
from bot.ui.errors import refused_text
from bot.ui.menus import MenuItem, all_labels, main_menu
from bot.ui.resident import due, my_list, skip_markup, ticket_view, withdraw_question
from handlers import resident_form as rf
from handlers import staff

COMMENT_MAX = 500


async def my_requests(update: Update, context: CustomContext) -> None:
    message = update.effective_message
    assert message is not None
    found = await requests.my_page(context.deps, rf.ids(update)[0], 0)
    text, markup = my_list(context.tr, found, context.deps.settings.timezone)
    await message.reply_text(text, reply_markup=markup or main_menu(context.tr))


# ------------------------------------------------------------------ the "my" buttons

async def _open(update: Update, context: CustomContext, item: MyTicket) -> None:
    query = update.callback_query
    assert query is not None
    found = await requests.detail(context.deps, rf.ids(update)[0], item.ticket_id)
    await query.answer()
    text, view = ticket_view(context.tr, found, context.deps.settings.timezone,
                             context.deps.calendar)
    await query.edit_message_text(text, reply_markup=view)


async def _withdraw(update: Update, context: CustomContext, item: MyTicket) -> None:
    query = update.callback_query
    assert query is not None
    ticket = await requests.owned(context.deps, rf.ids(update)[0], item.ticket_id)
    await query.answer()
    if not ticket.is_open:
        await query.edit_message_text(context.tr._("Request {code} is already closed.").format(
            code=ticket.code))
        return
    text, markup = withdraw_question(context.tr, ticket)
    await query.edit_message_text(text, reply_markup=markup)


async def _withdraw_yes(update: Update, context: CustomContext, item: MyTicket) -> None:
    query = update.callback_query
    assert query is not None
    ticket = await requests.withdraw(context.deps, rf.ids(update)[0], item.ticket_id)
    await query.answer()
    await query.edit_message_text(context.tr._("↩️ Request {code} was withdrawn. You can send "
                                               "a new request at any time.").format(
                                                   code=ticket.code))


MyPress = Callable[[Update, CustomContext, MyTicket], Coroutine[Any, Any, None]]
MY_BUTTONS: dict[MyAction, MyPress] = {
    MyAction.OPEN: _open,
    MyAction.WITHDRAW: _withdraw,
    MyAction.WITHDRAW_YES: _withdraw_yes,
}


async def on_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    item = callbacks.unpack(query.data)
    tr = context.tr
    try:
        if isinstance(item, MyList):
            found = await requests.my_page(context.deps, rf.ids(update)[0], item.page)
            text, markup = my_list(tr, found, context.deps.settings.timezone)
            await query.answer()
            await query.edit_message_text(text, reply_markup=markup)
            return
        press = callbacks.dispatch(MY_BUTTONS, item if isinstance(item, MyTicket) else None)
        if press is None or not isinstance(item, MyTicket):
            raise Refused(requests.EXPIRED)
        await press(update, context, item)
    except Refused as exc:
        await query.answer(refused_text(tr, exc))


def bare_code(text: str) -> str | None:
    """The tracking code a message consists of («ACD347», «acd ۳۴۷», with direction marks),
    or None."""
    if len(text) > 40:
        return None
    code = normalize_tracking_code(normalize(text))
    return code if is_valid_tracking_code(code) else None


class _BareCode(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        return bool(message.text) and bare_code(message.text or "") is not None


async def on_bare_code(update: Update, context: CustomContext) -> None:
    """Just a tracking code: the resident's own request as /status shows it; for staff and
    mayors a request in their scope shows its card."""
    message = update.effective_message
    assert message is not None and message.text is not None
    code = bare_code(message.text) or ""
    found = await requests.detail_by_code(context.deps, rf.ids(update)[0], code)
    if found is None and context.roles and await staff.show_in_scope(update, context, code):
        return
    await _show_detail(update, context, code, found)


async def _show_detail(update: Update, context: CustomContext, code: str,
                       found: Detail | None) -> None:
    message = update.effective_message
    assert message is not None
    tr = context.tr
    if found is None:
        await message.reply_text(tr._("I found no request of yours with the code {code}. "
                                      "Check the code, or press «📋 My requests».").format(
                                          code=quote(code, 20) or "-"),
                                 reply_markup=main_menu(tr))
        return
    text, view = ticket_view(tr, found, context.deps.settings.timezone,
                             context.deps.calendar)
    await message.reply_text(text, reply_markup=view)


async def status_command(update: Update, context: CustomContext) -> None:
    message = update.effective_message
    assert message is not None
    tr = context.tr
    args = context.args or []
    if not args:
        await message.reply_text(tr._("Send the code after the command, for example: "
                                      "/status ACD347"))
        return
    code = normalize_tracking_code("".join(args))
    found = await requests.detail_by_code(context.deps, rf.ids(update)[0], code)
    await _show_detail(update, context, code, found)


# ------------------------------------------------------------------ replies to relayed messages

def attachment_of(update: Update) -> AttachmentIn | None:
    message = update.effective_message
    if message is None:
        return None
    caption = message.caption
    if message.photo:
        best = message.photo[-1]
        return AttachmentIn("photo", best.file_id, best.file_unique_id, caption)
    for kind in ("voice", "video", "audio", "document"):
        item = getattr(message, kind, None)
        if item is not None and not message.animation:
            return AttachmentIn(kind, item.file_id, item.file_unique_id, caption)
    return None


async def relay_reply(update: Update, context: CustomContext) -> None:
    """A Telegram reply to a message the bot relayed about a ticket joins that ticket."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.reply_to_message is None:
        return
    if message.reply_to_message.from_user is None or \
            message.reply_to_message.from_user.id != context.bot.id:
        return
    attachment = attachment_of(update)
    body = (message.text or message.caption or "").strip()
    if not body and attachment is None:
        return
    tr = context.tr
    try:
        ticket = await requests.relay(context.deps, user.id, message.chat.id,
                                      message.reply_to_message.message_id,
                                      body or tr._("(attachment)"), attachment)
    except Refused as exc:
        await message.reply_text(refused_text(tr, exc))
        raise ApplicationHandlerStop from None
    if ticket is None:
        return
    await message.reply_text(tr._("✅ Added to request {code}. The house will see it.").format(
        code=ticket.code))
    raise ApplicationHandlerStop


# ------------------------------------------------------------------ rating and reopening

async def rate_entry(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None
    tr = context.tr
    item = Rate.unpack(query.data)
    person_id, chat_id = rf.ids(update)
    try:
        if item is None:
            raise Refused(requests.EXPIRED)
        ticket = await requests.rate(context.deps, person_id, chat_id, item.ticket_id,
                                     item.stars)
    except Refused as exc:
        await rf.answer_refused(update, context, exc)
        return rf.END
    await query.answer()
    await query.edit_message_reply_markup(None)
    await context.bot.send_message(
        person_id,
        tr._("Thank you! You gave {stars}⭐ to request {code}.\nWould you like to add a "
             "short comment? Write it now, or press «Skip».").format(
                 stars=tr.digits(item.stars), code=ticket.code),
        reply_markup=skip_markup(tr, ticket))
    return rf.RATE_COMMENT


@rf.step
async def rate_comment_text(update: Update, context: CustomContext, form: ResidentForm
                            ) -> object:
    message = update.effective_message
    assert message is not None and message.text is not None
    tr = context.tr
    comment = message.text.strip()
    if len(comment) > COMMENT_MAX:
        await message.reply_text(tr._("Please keep the comment under {n} characters; yours "
                                      "has {m}.").format(n=tr.digits(COMMENT_MAX),
                                                         m=tr.digits(len(comment))))
        return None
    await requests.rate_comment(context.deps, form, comment)
    await message.reply_text(tr._("Thank you, your comment was saved."),
                             reply_markup=main_menu(tr))
    return rf.END


@rf.step
async def rate_skip(update: Update, context: CustomContext, form: ResidentForm) -> object:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    await rf.end_form(update, context)
    assert query.message is not None
    await context.bot.send_message(query.message.chat.id, context.tr._("Thank you!"),
                                   reply_markup=main_menu(context.tr))
    return rf.END


async def reopen_entry(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None
    tr = context.tr
    item = RateButton.unpack(query.data)
    person_id, chat_id = rf.ids(update)
    try:
        if item is None or item.action is not RateAction.NOT_RESOLVED:
            raise Refused(requests.EXPIRED)
        ticket = await requests.start_reopen(context.deps, person_id, chat_id, item.ticket_id)
    except ReopenTooLate as late:
        await query.answer()
        await context.bot.send_message(person_id, tr._(
            "Request {code} was closed more than {days} days ago, so it cannot be reopened. "
            "Please send a new request.").format(code=late.values["code"],
                                                  days=tr.digits(late.days)),
            reply_markup=main_menu(tr))
        return rf.END
    except Refused as exc:
        await rf.answer_refused(update, context, exc)
        return rf.END
    await query.answer()
    await context.bot.send_message(person_id, tr._(
        "Sorry the problem is not solved. In a few words, what is still wrong with request "
        "{code}? (/cancel to stop)").format(code=ticket.code))
    return rf.REOPEN_REASON


def _reopened_text(context: CustomContext, ticket: Ticket) -> str:
    return context.tr._(
        "🔁 Request {code} is open again and back with the same house. A new answer is due "
        "by {due}.").format(code=ticket.code, due=due(context.tr, ticket,
                                                      context.deps.settings.timezone))


@rf.step
async def reopen_reason(update: Update, context: CustomContext, form: ResidentForm) -> object:
    message = update.effective_message
    assert message is not None and message.text is not None
    tr = context.tr
    reason = message.text.strip()
    if len(reason) < 3 or len(reason) > COMMENT_MAX:
        await message.reply_text(tr._("Please write between {a} and {b} characters.").format(
            a=tr.digits(3), b=tr.digits(COMMENT_MAX)))
        return None
    try:
        ticket = await requests.reopen(context.deps, form, reason)
    except Refused as exc:
        await message.reply_text(refused_text(tr, exc), reply_markup=main_menu(tr))
        return rf.END
    if ticket is not None:
        await message.reply_text(_reopened_text(context, ticket), reply_markup=main_menu(tr))
    return rf.END


PRE_GROUP = -1
# Runs before the forms: a reply to a relayed message belongs to its ticket, mid-form or not.
PRE_HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    MessageHandler(filters.REPLY & filters.ChatType.PRIVATE & ~filters.COMMAND, relay_reply),
]

HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("my", my_requests),
    MessageHandler(filters.Text(all_labels(MenuItem.MINE)), my_requests),
    CommandHandler("status", status_command),
    MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & _BareCode(),
                   on_bare_code),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern(MyTicket.prefix)),
]
