"""Lists and reports for staff and mayors: /queue (with its paging buttons), /overdue,
/search and /templates (/stats and /export are in `handlers.reports`)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.context import CustomContext
from bot.domain.limits import quote
from bot.i18n import Translator
from bot.services import staff as svc
from bot.services.roles import Scope
from bot.ui.buttons import QueuePage
from bot.ui.staff import list_buttons
from handlers import ticket_kit as kit
from handlers.fallback import stale_button
from handlers.ticket_kit import say


def _titles(tr: Translator) -> dict[str, str]:
    return {"all": tr._("Open requests"), "mine": tr._("My requests"),
            "unassigned": tr._("Requests nobody has taken"),
            "overdue": tr._("Overdue requests")}


async def show_queue(update: Update, context: CustomContext, scope: Scope, kind: str,
                     page: int) -> None:
    tr = context.tr
    view = await svc.queue_view(context.deps, scope, kind, page)
    title = _titles(tr)[kind]
    if not view.items:
        text = title + "\n" + tr._("Nothing here. 🎉")
    else:
        pages = (view.total + svc.PAGE - 1) // svc.PAGE
        text = kit.list_text(tr, tr._("{title} — page {page} of {pages} ({total} in all)").format(
            title=title, page=tr.digits(page + 1), pages=tr.digits(pages),
            total=tr.digits(view.total)), view)
    await say(update, context, text, list_buttons(tr, view.tickets, feature="st", kind=kind,
                                                  page=page, total=view.total,
                                                  page_size=svc.PAGE))


async def cmd_queue(update: Update, context: CustomContext) -> None:
    scope = await kit.guard(update, context, "staff")
    if scope is None:
        return
    args = kit.command_args(update, 1)
    kind = args[0].lower() if args and args[0].lower() in svc.QUEUE_FILTERS else "all"
    await show_queue(update, context, scope, kind, 0)


async def cmd_overdue(update: Update, context: CustomContext) -> None:
    scope = await kit.guard(update, context, "staff")
    if scope is not None:
        await show_queue(update, context, scope, "overdue", 0)


async def on_queue_page(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    item = QueuePage.unpack(query.data)
    scope = await kit.scope_of(update, context)
    if (item is None or scope is None or not scope.is_staff
            or item.kind not in svc.QUEUE_FILTERS or item.page < 0):
        await stale_button(update, context)
        return
    await query.answer()
    await show_queue(update, context, scope, item.kind, item.page)


async def cmd_search(update: Update, context: CustomContext) -> None:
    scope = await kit.guard(update, context, "any")
    if scope is None:
        return
    args = kit.command_args(update, 1)
    tr = context.tr
    if not args:
        await say(update, context, tr._("Write what to look for: /search text, code or "
                                        "phone number"))
        return
    view = await svc.search_view(context.deps, scope, args[0])
    if not view.items:
        await say(update, context, tr._("Nothing found for «{query}».").format(
            query=quote(args[0])))
        return
    header = tr._("Found {count}:").format(count=tr.digits(view.total))
    await say(update, context, kit.list_text(tr, header, view),
              list_buttons(tr, view.tickets, feature="search", kind="all", page=0,
                           total=view.total, page_size=view.total))


async def cmd_templates(update: Update, context: CustomContext) -> None:
    scope = await kit.guard(update, context, "staff")
    if scope is None:
        return
    tr = context.tr
    items = await svc.templates(context.deps, scope)
    lines = [tr._("Ready answers. Use one with /reply CODE #number, or with the "
                  "«📋 Templates» button on a request.")]
    lines += [f"#{tr.digits(t.id)} {t.title}: {t.body}" for t in items]
    await say(update, context, "\n".join(lines))


HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("queue", cmd_queue),
    CommandHandler("overdue", cmd_overdue),
    CommandHandler("search", cmd_search),
    CommandHandler("templates", cmd_templates),
    CallbackQueryHandler(on_queue_page, pattern=QueuePage.pattern()),
]
