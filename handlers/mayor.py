"""The neighbourhood mayor's triage: /inbox, re-route to another house, mark duplicates, and
the answers to the mayor's prompts (the reason of a re-route, the original of a duplicate).

Notes, /show, /search and the SLA state on each card come from handlers.staff, which checks
the mayor's neighbourhood scope the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import CustomContext
from bot.domain.models import Ticket
from bot.domain.tickets import Action, CloseReason
from bot.services import staff as svc
from bot.services.errors import NotFound
from bot.services.roles import Scope
from bot.services.staff import Ref
from bot.ui import callbacks, cards
from bot.ui.buttons import InboxPage, MayorAction, MayorButton, RouteTo
from bot.ui.jalali import format_due
from bot.ui.labels import house_choices
from bot.ui.staff import house_buttons, list_buttons
from handlers import ticket_kit as kit
from handlers.fallback import stale_button
from handlers.ticket_kit import PromptAnswer, do_close, do_move, say
from handlers.ticket_kit import command_args as _args
from handlers.ticket_kit import guard as _guard
from handlers.ticket_kit import say as _say


async def show_inbox(update: Update, context: CustomContext, page: int) -> None:
    scope = await kit.guard(update, context, "mayor")
    if scope is None:
        return
    tr = context.tr
    view = await svc.queue_view(context.deps, scope, "all", page, inbox=True)
    if not view.items:
        text = tr._("📥 Your inbox is empty: no new or reopened requests. 🎉")
    else:
        pages = (view.total + svc.PAGE - 1) // svc.PAGE
        text = kit.list_text(tr, tr._(
            "📥 New and reopened requests — page {page} of {pages} ({total} in all)").format(
            page=tr.digits(page + 1), pages=tr.digits(pages), total=tr.digits(view.total)),
            view)
    if page == 0:   # and what they already triaged, with where it went
        text = "\n\n".join([text, *filter(None, ["\n".join(
            cards.handled_lines(tr, await svc.handled(context.deps, scope)))])])
    await say(update, context, text, list_buttons(tr, view.tickets, feature="mb",
                                                  kind="inbox", page=page, total=view.total,
                                                  page_size=svc.PAGE))


async def cmd_inbox(update: Update, context: CustomContext) -> None:
    await show_inbox(update, context, 0)


async def cmd_route(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "mayor")
    if scope is None:
        return
    args = _args(update, 2)
    if len(args) < 2 or len(args[1].split()) < 2:
        await _say(update, context, context.tr._(
            "Write the code, the house and the reason: /route CODE HOUSE reason. Houses: "
            "{houses}").format(houses=house_choices(context.tr, await svc.houses(context.deps))))
        return
    # The house by code or Persian name, at the start of the rest (bot.services.houses).
    await do_move(update, context, scope, Ref.parse(args[0]), "", args[1], Action.ROUTE)


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


# ---------------------------------------------------------------------------- buttons

async def _press_route(update: Update, context: CustomContext, ticket: Ticket,
                       _item: object) -> None:
    tr = context.tr
    await say(update, context, tr._("To which house should {code} go?").format(
        code=ticket.code), house_buttons(tr, await svc.houses(context.deps), ticket, RouteTo))


async def _press_route_to(update: Update, context: CustomContext, ticket: Ticket,
                          item: RouteTo) -> None:
    await kit.prompt(update, context, context.tr._(
        "✍️ Why does {code} go to another house?").format(code=ticket.code),
        "route", ticket.id, item.house)


async def _press_duplicate(update: Update, context: CustomContext, ticket: Ticket,
                           _item: object) -> None:
    await kit.prompt(update, context, context.tr._(
        "✍️ Write the code of the original request that {code} repeats.").format(
        code=ticket.code), "dup", ticket.id)


# Keyed by the mayor action, or by the button class for buttons with more arguments.
PRESSES: dict[object, Callable[[Update, CustomContext, Ticket, Any], Awaitable[None]]] = {
    MayorAction.ROUTE: _press_route,
    MayorAction.DUPLICATE: _press_duplicate,
    RouteTo: _press_route_to,
}


async def on_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    item = callbacks.unpack(query.data)
    press = PRESSES.get(item.action if isinstance(item, MayorButton) else type(item))
    ticket_id = getattr(item, "ticket_id", None)
    scope = await kit.scope_of(update, context)
    if press is None or not isinstance(ticket_id, int) or scope is None or not scope.is_mayor:
        await stale_button(update, context)
        return
    ref = Ref(ticket_id=ticket_id)
    try:
        ticket = await svc.in_scope(context.deps, scope, ref, need="mayor")
    except NotFound:
        await query.answer(kit.not_found_text(context.tr, ref), show_alert=True)
        return
    await query.answer()
    await press(update, context, ticket, item)


async def on_inbox_page(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    item = InboxPage.unpack(query.data)
    scope = await kit.scope_of(update, context)
    if item is None or scope is None or not scope.is_mayor or item.page < 0:
        await stale_button(update, context)
        return
    await query.answer()
    await show_inbox(update, context, item.page)


# ---------------------------------------------------------------------------- prompt answers

async def _answer_route(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                        house: str, reason: str) -> None:
    await do_move(update, context, scope, ref, house, reason, Action.ROUTE)


async def _answer_duplicate(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                            _extra: str, text: str) -> None:
    await do_close(update, context, scope, ref, CloseReason.DUPLICATE, text, need="mayor")


# The mayor's prompts: the reply router of handlers.ticket_kit (composed in handlers.staff)
# calls these with the prompt's house (route) or nothing (duplicate).
PROMPT_ANSWERS: dict[str, PromptAnswer] = {
    "route": _answer_route,
    "dup": _answer_duplicate,
}

async def cmd_urgent(update: Update, context: CustomContext) -> None:
    """/urgent CODE reason: the request gets the urgent window; the resident is told."""
    await _urgency(update, context, urgent=True)


async def cmd_not_urgent(update: Update, context: CustomContext) -> None:
    """/noturgent CODE: back to the usual window."""
    await _urgency(update, context, urgent=False)


async def _urgency(update: Update, context: CustomContext, *, urgent: bool) -> None:
    scope = await _guard(update, context, "mayor")
    if scope is None:
        return
    tr = context.tr
    args = _args(update, 2 if urgent else 1)
    if len(args) < (2 if urgent else 1):
        await _say(update, context, tr._("Write the code and the reason: /urgent CODE reason")
                   if urgent else tr._("Write the code: /noturgent CODE"))
        return
    ref = Ref.parse(args[0])

    async def work() -> str:
        ticket = await svc.set_urgency(context.deps, scope, ref, args[1] if urgent else None)
        when = format_due(ticket.due_at, tr.locale, context.deps.settings.timezone)
        if ticket.urgent:
            return tr._("🚨 {code} is urgent now; answer due {due}. The resident was "
                        "told.").format(code=ticket.code, due=when)
        return tr._("{code} is not urgent now; answer due {due}. The resident was "
                    "told.").format(code=ticket.code, due=when)
    await kit.run(update, context, ref, work)


HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("inbox", cmd_inbox),
    CommandHandler("urgent", cmd_urgent),
    CommandHandler("noturgent", cmd_not_urgent),
    CommandHandler("route", cmd_route),
    CommandHandler("duplicate", cmd_duplicate),
    CallbackQueryHandler(on_inbox_page, pattern=InboxPage.pattern()),
    CallbackQueryHandler(on_button, pattern=MayorButton.pattern()),
]
