"""The neighbourhood mayor's triage: /inbox, re-route to another house, mark duplicates.

Notes, /show, /search and the SLA state on each card come from handlers.staff, which checks
the mayor's neighbourhood scope the same way.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import CustomContext
from bot.domain.tickets import Action, CloseReason
from bot.services import staff as svc
from bot.services.errors import NotFound
from bot.services.staff import Ref, houses
from bot.ui import callbacks
from bot.ui.labels import house_choices
from bot.ui.staff import house_buttons, list_buttons
from handlers.fallback import stale_button
from handlers.staff import (
    _args,
    _guard,
    _prompt,
    _say,
    do_close,
    do_move,
    not_found_text,
    scope_of,
)


async def show_inbox(update: Update, context: CustomContext, page: int) -> None:
    scope = await _guard(update, context, "mayor")
    if scope is None:
        return
    tr = context.tr
    tickets, total = await svc.queue(context.deps, scope, "all", page, inbox=True)
    if not tickets:
        text = tr._("📥 Your inbox is empty: no new or reopened requests. 🎉")
    else:
        pages = (total + svc.PAGE - 1) // svc.PAGE
        lines = [tr._("📥 New and reopened requests — page {page} of {pages} ({total} in "
                      "all)").format(page=tr.digits(page + 1), pages=tr.digits(pages),
                                     total=tr.digits(total))]
        lines += [await svc.queue_line(context.deps, tr, t) for t in tickets]
        text = "\n".join(lines)
    await _say(update, context, text, list_buttons(tr, tickets, feature="mb", kind="inbox",
                                                   page=page, total=total,
                                                   page_size=svc.PAGE))


async def cmd_inbox(update: Update, context: CustomContext) -> None:
    await show_inbox(update, context, 0)


async def cmd_route(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "mayor")
    if scope is None:
        return
    args = _args(update, 3)
    if len(args) < 3:
        await _say(update, context, context.tr._(
            "Write the code, the house and the reason: /route CODE HOUSE reason. Houses: "
            "{houses}").format(houses=house_choices(context.tr, await houses(context.deps))))
        return
    await do_move(update, context, scope, Ref.parse(args[0]), args[1], args[2], Action.ROUTE)


async def cmd_duplicate(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "mayor")
    if scope is None:
        return
    args = _args(update, 2)
    if len(args) < 2:
        await _say(update, context, context.tr._(
            "Write the code and the code of the original request: /duplicate CODE ORIGINAL"))
        return
    await do_close(update, context, scope, Ref.parse(args[0]), CloseReason.DUPLICATE,
                   args[1], need="mayor")


async def on_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    tr = context.tr
    data = callbacks.parse(query.data)
    scope = await scope_of(update, context)
    if data is None or scope is None or not scope.is_mayor:
        await stale_button(update, context)
        return
    if data.action == "q":
        page = data.int_arg(1)
        await query.answer()
        if page is not None:
            await show_inbox(update, context, page)
        return
    ticket_id = data.int_arg(0)
    if ticket_id is None:
        await stale_button(update, context)
        return
    ref = Ref(ticket_id=ticket_id)
    try:
        async with context.deps.db.read() as conn:
            ticket = await svc.find(conn, scope, ref, need="mayor")
    except NotFound:
        await query.answer(not_found_text(tr, ref), show_alert=True)
        return
    await query.answer()
    if data.action == "route":
        await _say(update, context, tr._("To which house should {code} go?").format(
            code=ticket.code), house_buttons(tr, await houses(context.deps), ticket,
                                             "routeto", "mb"))
    elif data.action == "routeto" and len(data.args) > 1:
        await _prompt(update, context, tr._("✍️ Why does {code} go to another house?").format(
            code=ticket.code), "route", ticket.id, data.args[1])
    elif data.action == "dup":
        await _prompt(update, context, tr._("✍️ Write the code of the original request "
                                            "that {code} repeats.").format(code=ticket.code),
                      "dup", ticket.id)
    else:
        await _say(update, context, tr._("This menu has expired."))


HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("inbox", cmd_inbox),
    CommandHandler("route", cmd_route),
    CommandHandler("duplicate", cmd_duplicate),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern("mb")),
]
