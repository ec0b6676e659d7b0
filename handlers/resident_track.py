"""The resident's own requests: /my, /status, history, withdraw, replies to staff messages,
rating and "not resolved" after closure."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import CustomContext
from bot.domain.models import Ticket, TicketEvent
from bot.domain.text import normalize_tracking_code
from bot.domain.tickets import Action, Status
from bot.i18n import N_
from bot.services import resident as service
from bot.services.tickets import AttachmentIn
from bot.ui import callbacks
from bot.ui.jalali import format_datetime
from bot.ui.labels import kind_label, localized, status_label
from bot.ui.menus import MenuItem, all_labels, main_menu
from bot.ui.notices import rating_keyboard
from handlers import resident_form as rf
from storage import outbox, places
from storage import tickets as repo

F = "my"
PAGE = 5
COMMENT_MAX = 500

EVENT_LABELS: dict[str, str] = {
    Action.FILE: N_("Request sent"),
    Action.TAKE: N_("A staff member is working on it"),
    Action.REPLY: N_("Answer"),
    Action.ASK: N_("Question for you"),
    Action.RESIDENT_MESSAGE: N_("Your message"),
    Action.TRANSFER: N_("Sent to another house"),
    Action.ROUTE: N_("Sent to the right house"),
    Action.CLOSE: N_("Closed"),
    Action.WITHDRAW: N_("Withdrawn by you"),
    Action.REOPEN: N_("Reopened: not resolved"),
    Action.RATE: N_("Your rating"),
    Action.SLA: N_("Reminder to the house"),
}


def _due(context: CustomContext, ticket: Ticket) -> str:
    return format_datetime(ticket.due_at, context.tr.locale, context.deps.settings.timezone)


def _line(context: CustomContext, ticket: Ticket) -> str:
    tr = context.tr
    text = tr._("{code} · {kind} · {status}").format(
        code=ticket.code, kind=kind_label(tr, ticket.kind),
        status=status_label(tr, ticket.status, ticket.close_reason))
    if ticket.is_open:
        text += "\n   " + tr._("Answer due: {due}").format(due=_due(context, ticket))
    return text


async def _list(context: CustomContext, resident_id: int, page: int
                ) -> tuple[str, InlineKeyboardMarkup | None]:
    tr = context.tr
    async with context.deps.db.read() as conn:
        total = await repo.count_by_resident(conn, resident_id)
        pages = max(1, (total + PAGE - 1) // PAGE)
        page = min(max(page, 0), pages - 1)
        items = await repo.by_resident(conn, resident_id, limit=PAGE, offset=page * PAGE)
    if not items:
        return tr._("You have not sent any request yet. Press «📝 New request» to send "
                    "one."), None
    head = tr.ngettext("Your requests ({n}), newest first:", "Your requests ({n}), newest "
                       "first:", total).format(n=tr.digits(total))
    if pages > 1:
        head += " " + tr._("(page {page} of {pages})").format(page=tr.digits(page + 1),
                                                              pages=tr.digits(pages))
    text = "\n\n".join([head, *("• " + _line(context, t) for t in items),
                        tr._("Press a code to see its history.")])
    rows = [[InlineKeyboardButton("📄 " + t.code, callback_data=callbacks.build(F, "open", t.id))
             for t in items[i:i + 3]] for i in range(0, len(items), 3)]
    moves = []
    if page > 0:
        moves.append(InlineKeyboardButton(tr._("◀️ Newer"),
                                          callback_data=callbacks.build(F, "list", page - 1)))
    if page + 1 < pages:
        moves.append(InlineKeyboardButton(tr._("Older ▶️"),
                                          callback_data=callbacks.build(F, "list", page + 1)))
    if moves:
        rows.append(moves)
    return text, InlineKeyboardMarkup(rows)


async def my_requests(update: Update, context: CustomContext) -> None:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    text, markup = await _list(context, user.id, 0)
    await message.reply_text(text, reply_markup=markup or main_menu(context.tr))


def _event_line(context: CustomContext, event: TicketEvent) -> str:
    tr = context.tr
    when = format_datetime(event.at, tr.locale, context.deps.settings.timezone)
    label = tr._(EVENT_LABELS.get(event.action, N_("Update")))
    if event.action == Action.RATE and "rating" in event.details:
        label += " " + tr.digits(event.details["rating"]) + "⭐"
    line = f"• {when} — {label}"
    if event.body:
        line += f": {event.body}"
    return line


async def ticket_view(context: CustomContext, ticket: Ticket
                      ) -> tuple[str, InlineKeyboardMarkup]:
    """The resident's view of one request: public history only, never internal notes."""
    tr = context.tr
    async with context.deps.db.read() as conn:
        history = await repo.events(conn, ticket.id, public_only=True)
        category = await places.category(conn, ticket.category_id)
        house = await places.house(conn, ticket.house_id)
        files = await repo.attachment_count(conn, ticket.id)
    assert category is not None and house is not None
    lines = [
        tr._("Request {code}").format(code=ticket.code),
        tr._("Type: {kind} · {category}").format(
            kind=kind_label(tr, ticket.kind),
            category=localized(tr, category.name_fa, category.name_en)),
        tr._("House: {house}").format(house=localized(tr, house.name_fa, house.name_en)),
        tr._("Status: {status}").format(status=status_label(tr, ticket.status,
                                                            ticket.close_reason)),
    ]
    if ticket.is_open:
        lines.append(tr._("Answer due: {due}").format(due=_due(context, ticket)))
    if files:
        lines.append(tr.ngettext("📎 You attached {n} file", "📎 You attached {n} files",
                                 files).format(n=tr.digits(files)))
    lines.append("")
    lines.append(tr._("History:"))
    lines.extend(_event_line(context, e) for e in history)
    rows: list[list[InlineKeyboardButton]] = []
    if ticket.is_open:
        rows.append([
            InlineKeyboardButton(tr._("✍️ Add a message"),
                                 callback_data=callbacks.build(F, "follow", ticket.id)),
            InlineKeyboardButton(tr._("↩️ Withdraw"),
                                 callback_data=callbacks.build(F, "wd", ticket.id)),
        ])
    elif ticket.rating is None and service.can_reopen(context.deps, ticket):
        rows.extend(list(r) for r in rating_keyboard(tr, ticket.id).inline_keyboard)
    rows.append([InlineKeyboardButton(tr._("🔙 All my requests"),
                                      callback_data=callbacks.build(F, "list", 0))])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def _owned(context: CustomContext, ticket_id: int | None) -> Ticket | None:
    if ticket_id is None or context.person is None:
        return None
    async with context.deps.db.read() as conn:
        return await service.owned_ticket(conn, ticket_id, context.person.id)


async def on_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    tr = context.tr
    data = callbacks.parse(query.data)
    if data is None:
        await query.answer(tr._("This menu has expired."))
        return
    if data.action == "list":
        text, markup = await _list(context, query.from_user.id, data.int_arg(0) or 0)
        await query.answer()
        await query.edit_message_text(text, reply_markup=markup)
        return
    ticket = await _owned(context, data.int_arg(0))
    if ticket is None:
        await query.answer(tr._("This menu has expired."))
        return
    if data.action == "open":
        await query.answer()
        text, view = await ticket_view(context, ticket)
        await query.edit_message_text(text, reply_markup=view)
    elif data.action == "wd":
        await query.answer()
        if not ticket.is_open:
            await query.edit_message_text(tr._("Request {code} is already closed.").format(
                code=ticket.code))
            return
        await query.edit_message_text(
            tr._("Do you really want to withdraw request {code}? The house will stop "
                 "working on it.").format(code=ticket.code),
            reply_markup=InlineKeyboardMarkup([[
                InlineKeyboardButton(tr._("Yes, withdraw it"),
                                     callback_data=callbacks.build(F, "wdyes", ticket.id)),
                InlineKeyboardButton(tr._("No, keep it"),
                                     callback_data=callbacks.build(F, "open", ticket.id)),
            ]]))
    elif data.action == "wdyes":
        deps = context.deps
        try:
            async with deps.db.tx() as conn:
                fresh = await repo.get(conn, ticket.id)
                assert fresh is not None
                await service.withdraw(conn, deps, fresh, query.from_user.id)
        except service.ResidentError:
            await query.answer(tr._("This request is already closed."))
            return
        await query.answer()
        await query.edit_message_text(tr._("↩️ Request {code} was withdrawn. You can send a "
                                           "new request at any time.").format(code=ticket.code))
    else:
        await query.answer(tr._("This menu has expired."))


async def status_command(update: Update, context: CustomContext) -> None:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    tr = context.tr
    args = context.args or []
    if not args:
        await message.reply_text(tr._("Send the code after the command, for example: "
                                      "/status ACD347"))
        return
    code = normalize_tracking_code("".join(args))
    async with context.deps.db.read() as conn:
        ticket = await service.owned_by_code(conn, code, user.id)
    if ticket is None:
        await message.reply_text(tr._("I found no request of yours with the code {code}. "
                                      "Check the code, or press «📋 My requests».").format(
                                          code=code or "-"), reply_markup=main_menu(tr))
        return
    text, view = await ticket_view(context, ticket)
    await message.reply_text(text, reply_markup=view)


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
    deps = context.deps
    async with deps.db.read() as conn:
        ticket_id = await outbox.ticket_for_message(conn, message.chat.id,
                                                    message.reply_to_message.message_id)
    if ticket_id is None:
        return
    tr = context.tr
    attachment = attachment_of(update)
    body = (message.text or message.caption or "").strip()
    if not body and attachment is None:
        return
    try:
        async with deps.db.tx() as conn:
            ticket = await service.owned_ticket(conn, ticket_id, user.id)
            if ticket is None:
                return
            ticket = await service.add_resident_message(
                conn, deps, ticket, user.id, body or tr._("(attachment)"),
                [attachment] if attachment else [])
    except service.ResidentError:
        await message.reply_text(tr._("Request {code} is closed, so I could not add your "
                                      "message. Send a new request if you still need "
                                      "help.").format(code=await _code(context, ticket_id)))
        raise ApplicationHandlerStop from None
    await message.reply_text(tr._("✅ Added to request {code}. The house will see it.").format(
        code=ticket.code))
    raise ApplicationHandlerStop


async def _code(context: CustomContext, ticket_id: int) -> str:
    async with context.deps.db.read() as conn:
        ticket = await repo.get(conn, ticket_id)
    return ticket.code if ticket else "-"


# ------------------------------------------------------------------ rating and reopening

async def rate_entry(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    tr = context.tr
    data = callbacks.parse(query.data)
    ticket = await _owned(context, data.int_arg(0) if data else None)
    stars = data.int_arg(1) if data else None
    if ticket is None or stars is None:
        await query.answer(tr._("This menu has expired."))
        return rf.END
    deps = context.deps
    try:
        async with deps.db.tx() as conn:
            fresh = await repo.get(conn, ticket.id)
            assert fresh is not None
            await service.rate(conn, deps, fresh, query.from_user.id, stars)
    except service.ResidentError as exc:
        await query.answer(tr._("You have already rated this request.") if exc.key == "rated"
                           else tr._("This menu has expired."))
        return rf.END
    await query.answer()
    await query.edit_message_reply_markup(None)
    rf.new_form(context, "rate", ticket_id=ticket.id)
    await context.bot.send_message(
        query.from_user.id,
        tr._("Thank you! You gave {stars}⭐ to request {code}.\nWould you like to add a "
             "short comment? Write it now, or press «Skip».").format(
                 stars=tr.digits(stars), code=ticket.code),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(
            tr._("Skip"), callback_data=callbacks.build("rate", "skip", ticket.id))]]))
    return rf.RATE_COMMENT


@rf.step
async def rate_comment_text(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.text is not None and user is not None
    tr = context.tr
    comment = message.text.strip()
    if len(comment) > COMMENT_MAX:
        await message.reply_text(tr._("Please keep the comment under {n} characters; yours "
                                      "has {m}.").format(n=tr.digits(COMMENT_MAX),
                                                         m=tr.digits(len(comment))))
        return None
    ticket = await _owned(context, rf.form_of(context).get("ticket_id"))
    if ticket is not None:
        deps = context.deps
        async with deps.db.tx() as conn:
            await service.rate_comment(conn, deps, ticket, user.id, comment)
    rf.clear(context)
    await message.reply_text(tr._("Thank you, your comment was saved."),
                             reply_markup=main_menu(tr))
    return rf.END


@rf.step
async def rate_skip(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    rf.clear(context)
    assert query.message is not None
    await context.bot.send_message(query.message.chat.id, context.tr._("Thank you!"),
                                   reply_markup=main_menu(context.tr))
    return rf.END


async def reopen_entry(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    tr = context.tr
    data = callbacks.parse(query.data)
    ticket = await _owned(context, data.int_arg(0) if data else None)
    if ticket is None or ticket.status is not Status.CLOSED:
        await query.answer(tr._("This menu has expired."))
        return rf.END
    if not service.can_reopen(context.deps, ticket):
        await query.answer()
        await context.bot.send_message(query.from_user.id, tr._(
            "Request {code} was closed more than {days} days ago, so it cannot be reopened. "
            "Please send a new request.").format(
                code=ticket.code, days=tr.digits(context.deps.settings.reopen_days)),
            reply_markup=main_menu(tr))
        return rf.END
    await query.answer()
    rf.new_form(context, "reopen", ticket_id=ticket.id)
    await context.bot.send_message(query.from_user.id, tr._(
        "Sorry the problem is not solved. In a few words, what is still wrong with request "
        "{code}? (/cancel to stop)").format(code=ticket.code))
    return rf.REOPEN_REASON


@rf.step
async def reopen_reason(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.text is not None and user is not None
    tr = context.tr
    reason = message.text.strip()
    if len(reason) < 3 or len(reason) > COMMENT_MAX:
        await message.reply_text(tr._("Please write between {a} and {b} characters.").format(
            a=tr.digits(3), b=tr.digits(COMMENT_MAX)))
        return None
    ticket = await _owned(context, rf.form_of(context).get("ticket_id"))
    if ticket is None:
        rf.clear(context)
        return rf.END
    deps = context.deps
    try:
        async with deps.db.tx() as conn:
            fresh = await repo.get(conn, ticket.id)
            assert fresh is not None
            ticket = await service.reopen(conn, deps, fresh, user.id, reason)
    except service.ResidentError:
        await message.reply_text(tr._("This request can no longer be reopened. Please send "
                                      "a new request."), reply_markup=main_menu(tr))
        rf.clear(context)
        return rf.END
    rf.clear(context)
    await message.reply_text(tr._(
        "🔁 Request {code} is open again and back with the same house. A new answer is due "
        "by {due}.").format(code=ticket.code, due=_due(context, ticket)),
        reply_markup=main_menu(tr))
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
    CallbackQueryHandler(on_button, pattern=callbacks.pattern(F)),
]
