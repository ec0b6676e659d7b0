"""Commands and buttons of house staff and mayors on tickets (private chat and bound group).

Every entry point resolves the person's scope first; a ticket outside it gets exactly the
"not found" answer a missing ticket gets. Buttons carry only the ticket id; the scope is
checked again on every press, so stale or forged data never acts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram import ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import CustomContext
from bot.domain.tickets import Action, CloseReason
from bot.i18n import Translator
from bot.services import staff as svc
from bot.services.errors import NotFound, Refused
from bot.services.roles import Scope
from bot.services.staff import Ref, current_scope, houses, ticket_for_message
from bot.ui import callbacks
from bot.ui.errors import refused_text
from bot.ui.jalali import format_duration
from bot.ui.labels import CLOSE_REASON, house_choices, localized
from bot.ui.staff import card_buttons, close_buttons, house_buttons, list_buttons
from handlers.fallback import stale_button

log = logging.getLogger(__name__)

MAX_PROMPTS = 20
MAX_CARDS = 200


# ---------------------------------------------------------------------------- plumbing

def _message(update: Update) -> Message:
    message = update.effective_message
    assert message is not None
    return message


def _is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type != ChatType.PRIVATE


async def scope_of(update: Update, context: CustomContext) -> Scope | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or not context.roles:
        return None
    return await current_scope(context.deps, user.id, context.roles, chat.id, _is_group(update))


async def _say(update: Update, context: CustomContext, text: str,
               markup: InlineKeyboardMarkup | ForceReply | None = None) -> Message:
    """Answer in the chat where the person acted (command or button)."""
    chat = update.effective_chat
    assert chat is not None
    return await context.bot.send_message(chat.id, text, reply_markup=markup)


def not_found_text(tr: Translator, ref: Ref) -> str:
    if ref.code:
        return tr._("No request with code {code} was found.").format(code=ref.code)
    return tr._("This request was not found.")


async def _guard(update: Update, context: CustomContext, need: str) -> Scope | None:
    """The person's scope if they may use `need` ("staff", "mayor", "any") commands here."""
    tr = context.tr
    scope = await scope_of(update, context)
    ok = scope is not None and (
        (need == "staff" and scope.is_staff) or (need == "mayor" and scope.is_mayor)
        or (need == "any" and bool(scope.areas)))
    if ok:
        return scope
    if _is_group(update) and context.has_role("staff", "supervisor", "admin"):
        await _say(update, context, tr._("This group is not bound to your house. A staff "
                                         "member can bind it with /bind."))
    elif need == "mayor":
        await _say(update, context, tr._("This command is for neighbourhood mayors."))
    else:
        await _say(update, context, tr._("This command is for house staff and "
                                         "neighbourhood mayors."))
    return None


def _args(update: Update, count: int) -> list[str]:
    """Words after the command; the last one keeps the rest of the text (with newlines)."""
    text = _message(update).text or ""
    parts = text.split(None, count)
    return [p.strip() for p in parts[1:]]


async def _run(update: Update, context: CustomContext, ref: Ref,
               work: Callable[[], Awaitable[str]]) -> bool:
    try:
        text = await work()
    except NotFound:
        await _say(update, context, not_found_text(context.tr, ref))
        return False
    except Refused as exc:
        await _say(update, context, refused_text(context.tr, exc))
        return False
    await _say(update, context, text)
    return True


def _remember_card(context: CustomContext, message: Message, ticket_id: int) -> None:
    """A Telegram reply to a card becomes a reply to its ticket (chat_data is JSON)."""
    if context.chat_data is None:
        return
    cards: dict[str, int] = context.chat_data.setdefault("cards", {})
    cards[str(message.message_id)] = ticket_id
    for key in list(cards)[:-MAX_CARDS]:
        del cards[key]


async def _prompt(update: Update, context: CustomContext, text: str, action: str,
                  ticket_id: int, extra: str = "") -> None:
    """Ask for the text of an action; the answer is a Telegram reply to this prompt."""
    sent = await _say(update, context, text + "\n" + context.tr._("(reply to this message; "
                                                                  "/cancel to stop)"),
                      ForceReply(selective=True))
    assert context.user_data is not None
    prompts: dict[str, list[Any]] = context.user_data.setdefault("prompts", {})
    prompts[str(sent.message_id)] = [action, ticket_id, extra]
    for key in list(prompts)[:-MAX_PROMPTS]:
        del prompts[key]


# ---------------------------------------------------------------------------- doing

async def do_show(update: Update, context: CustomContext, scope: Scope, ref: Ref, *,
                  history: bool) -> None:
    try:
        ticket, text = await svc.show(context.deps, context.tr, scope, ref, history=history)
    except NotFound:
        await _say(update, context, not_found_text(context.tr, ref))
        return
    files = await svc.has_files(context.deps, ticket)
    for part in _chunks(text):
        sent = await _say(update, context, part,
                          card_buttons(context.tr, scope, ticket, files=files))
        _remember_card(context, sent, ticket.id)


async def do_files(update: Update, context: CustomContext, scope: Scope, ref: Ref) -> None:
    """Send the ticket's files and location to the person who asked, in this chat: each with
    the method of its kind, by Telegram file id (nothing is downloaded)."""
    tr = context.tr
    try:
        ticket, items = await svc.files(context.deps, scope, ref)
    except NotFound:
        await _say(update, context, not_found_text(tr, ref))
        return
    located = ticket.lat is not None and ticket.lon is not None
    if not items and not located:
        await _say(update, context, tr._("Request {code} has no attachments and no "
                                         "location.").format(code=ticket.code))
        return
    await _say(update, context, tr.ngettext(
        "📎 Request {code}: {n} attachment", "📎 Request {code}: {n} attachments",
        len(items)).format(code=ticket.code, n=tr.digits(len(items))))
    chat = update.effective_chat
    assert chat is not None
    failed = 0
    for item in items:
        try:
            await _send_file(context, chat.id, item.kind, item.file_id, item.caption)
        except TelegramError as exc:   # e.g. a file id from another bot token
            log.warning("attachment %s of ticket %s not sent: %s", item.id, ticket.id, exc)
            failed += 1
    if located:
        assert ticket.lat is not None and ticket.lon is not None
        await context.bot.send_location(chat.id, latitude=ticket.lat, longitude=ticket.lon)
    if failed:
        await _say(update, context, tr.ngettext(
            "{n} file could not be sent; Telegram no longer has it.",
            "{n} files could not be sent; Telegram no longer has them.", failed).format(
            n=tr.digits(failed)))


async def _send_file(context: CustomContext, chat_id: int, kind: str, file_id: str,
                     caption: str | None) -> None:
    caption = caption[:1024] if caption else None
    bot = context.bot
    if kind == "photo":
        await bot.send_photo(chat_id, photo=file_id, caption=caption)
    elif kind == "voice":
        await bot.send_voice(chat_id, voice=file_id, caption=caption)
    elif kind == "video":
        await bot.send_video(chat_id, video=file_id, caption=caption)
    elif kind == "audio":
        await bot.send_audio(chat_id, audio=file_id, caption=caption)
    else:
        await bot.send_document(chat_id, document=file_id, caption=caption)


def _chunks(text: str, limit: int = 3900) -> list[str]:
    from bot.outbox import split_text

    return split_text(text, limit)


async def do_take(update: Update, context: CustomContext, scope: Scope, ref: Ref) -> None:
    tr = context.tr

    async def work() -> str:
        ticket, got = await svc.take(context.deps, scope, ref)
        return (tr._("✋ You took {code}. Reply with /reply {code} text.") if got else
                tr._("You already have {code}.")).format(code=ticket.code)
    await _run(update, context, ref, work)


async def do_reply(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                   text: str) -> None:
    tr = context.tr

    async def work() -> str:
        body = await svc.expand_template(context.deps, scope, text)
        ticket = await svc.reply(context.deps, scope, ref, body)
        return tr._("✅ Your answer to {code} was sent to the resident.").format(
            code=ticket.code)
    await _run(update, context, ref, work)


async def do_ask(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                 text: str) -> None:
    tr = context.tr

    async def work() -> str:
        ticket = await svc.ask(context.deps, scope, ref, text)
        return tr._("✅ Question about {code} sent. The clock is paused until the resident "
                    "answers.").format(code=ticket.code)
    await _run(update, context, ref, work)


async def do_note(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                  text: str) -> None:
    tr = context.tr

    async def work() -> str:
        ticket = await svc.note(context.deps, scope, ref, text)
        return tr._("🔒 Internal note saved on {code}. Residents never see it.").format(
            code=ticket.code)
    await _run(update, context, ref, work)


async def do_move(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                  house: str, reason: str, action: Action) -> None:
    tr = context.tr

    async def work() -> str:
        ticket = await svc.move(context.deps, scope, ref, house, reason, action=action)
        found = [h for h in await houses(context.deps) if h.id == ticket.house_id]
        name = localized(tr, found[0].name_fa, found[0].name_en) if found else house
        return tr._("📨 {code} now goes to {house}; its staff were told.").format(
            code=ticket.code, house=name)
    await _run(update, context, ref, work)


async def do_close(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                   reason: CloseReason, text: str, *, need: str = "staff") -> None:
    tr = context.tr
    duplicate = None
    if reason is CloseReason.DUPLICATE:
        duplicate, _, text = text.strip().partition(" ")

    async def work() -> str:
        ticket = await svc.close(context.deps, scope, ref, reason, text,
                                 duplicate_code=duplicate, need=need)
        return tr._("✅ {code} is closed ({reason}); the resident was told.").format(
            code=ticket.code, reason=tr._(CLOSE_REASON[reason]))
    await _run(update, context, ref, work)


async def do_reopen(update: Update, context: CustomContext, scope: Scope, ref: Ref) -> None:
    tr = context.tr

    async def work() -> str:
        ticket = await svc.reopen(context.deps, scope, ref)
        return tr._("🔁 {code} is open again with a new deadline.").format(code=ticket.code)
    await _run(update, context, ref, work)


# ---------------------------------------------------------------------------- commands

REASON_WORDS: dict[str, CloseReason] = {
    "resolved": CloseReason.RESOLVED, "1": CloseReason.RESOLVED,
    "duplicate": CloseReason.DUPLICATE, "2": CloseReason.DUPLICATE,
    "notours": CloseReason.NOT_OUR_RESPONSIBILITY, "3": CloseReason.NOT_OUR_RESPONSIBILITY,
    "impossible": CloseReason.NOT_POSSIBLE, "4": CloseReason.NOT_POSSIBLE,
}


def _usage(tr: Translator, command: str) -> str:
    usages = {
        "show": tr._("Write the code: /show CODE"),
        "take": tr._("Write the code: /take CODE"),
        "reply": tr._("Write the code and the answer: /reply CODE text (a template: "
                      "/reply CODE #1)"),
        "ask": tr._("Write the code and the question: /ask CODE question"),
        "note": tr._("Write the code and the note: /note CODE text"),
        "transfer": tr._("Write the code, the house and the reason: /transfer CODE HOUSE "
                         "reason. Houses: {houses}"),
        "close": tr._("Write the code: /close CODE, then choose the reason. Or: /close CODE "
                      "resolved|notours|impossible message, /close CODE duplicate ORIGINAL "
                      "message"),
        "reopen": tr._("Write the code: /reopen CODE"),
        "search": tr._("Write what to look for: /search text, code or phone number"),
        "files": tr._("Write the code: /files CODE"),
    }
    return usages[command]


async def cmd_show(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "any")
    if scope is None:
        return
    args = _args(update, 1)
    if not args:
        await _say(update, context, _usage(context.tr, "show"))
        return
    await do_show(update, context, scope, Ref.parse(args[0]), history=True)


async def cmd_files(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "any")
    if scope is None:
        return
    args = _args(update, 1)
    if not args:
        await _say(update, context, _usage(context.tr, "files"))
        return
    await do_files(update, context, scope, Ref.parse(args[0]))


async def cmd_take(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "staff")
    if scope is None:
        return
    args = _args(update, 1)
    if not args:
        await _say(update, context, _usage(context.tr, "take"))
        return
    await do_take(update, context, scope, Ref.parse(args[0]))


def _text_command(name: str, need: str,
                  action: Callable[[Update, CustomContext, Scope, Ref, str], Awaitable[None]]
                  ) -> Callable[[Update, CustomContext], Coroutine[Any, Any, None]]:
    async def handler(update: Update, context: CustomContext) -> None:
        scope = await _guard(update, context, need)
        if scope is None:
            return
        args = _args(update, 2)
        if len(args) < 2:
            await _say(update, context, _usage(context.tr, name))
            return
        await action(update, context, scope, Ref.parse(args[0]), args[1])
    return handler


async def cmd_transfer(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "staff")
    if scope is None:
        return
    args = _args(update, 3)
    if len(args) < 3:
        await _say(update, context, _usage(context.tr, "transfer").format(
            houses=house_choices(context.tr, await houses(context.deps))))
        return
    await do_move(update, context, scope, Ref.parse(args[0]), args[1], args[2],
                  Action.TRANSFER)


async def cmd_close(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "staff")
    if scope is None:
        return
    args = _args(update, 3)
    if not args:
        await _say(update, context, _usage(context.tr, "close"))
        return
    ref = Ref.parse(args[0])
    if len(args) == 1:
        try:
            ticket, _ = await svc.show(context.deps, context.tr, scope, ref, history=False)
        except NotFound:
            await _say(update, context, not_found_text(context.tr, ref))
            return
        await _say(update, context, context.tr._("Why is {code} being closed?").format(
            code=ticket.code), close_buttons(context.tr, ticket))
        return
    reason = REASON_WORDS.get(args[1].lower())
    if reason is None:
        await _say(update, context, _usage(context.tr, "close"))
        return
    await do_close(update, context, scope, ref, reason, " ".join(args[2:]))


async def cmd_reopen(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "staff")
    if scope is None:
        return
    args = _args(update, 1)
    if not args:
        await _say(update, context, _usage(context.tr, "reopen"))
        return
    await do_reopen(update, context, scope, Ref.parse(args[0]))


async def show_queue(update: Update, context: CustomContext, scope: Scope, kind: str,
                     page: int) -> None:
    tr = context.tr
    tickets, total = await svc.queue(context.deps, scope, kind, page)
    titles = {"all": tr._("Open requests"), "mine": tr._("My requests"),
              "unassigned": tr._("Requests nobody has taken"),
              "overdue": tr._("Overdue requests")}
    if not tickets:
        text = titles[kind] + "\n" + tr._("Nothing here. 🎉")
    else:
        pages = (total + svc.PAGE - 1) // svc.PAGE
        lines = [tr._("{title} — page {page} of {pages} ({total} in all)").format(
            title=titles[kind], page=tr.digits(page + 1), pages=tr.digits(pages),
            total=tr.digits(total))]
        lines += [await svc.queue_line(context.deps, tr, t) for t in tickets]
        text = "\n".join(lines)
    await _say(update, context, text, list_buttons(tr, tickets, feature="st", kind=kind,
                                                   page=page, total=total,
                                                   page_size=svc.PAGE))


async def cmd_queue(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "staff")
    if scope is None:
        return
    args = _args(update, 1)
    kind = args[0].lower() if args and args[0].lower() in svc.QUEUE_FILTERS else "all"
    await show_queue(update, context, scope, kind, 0)


async def cmd_overdue(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "staff")
    if scope is not None:
        await show_queue(update, context, scope, "overdue", 0)


async def cmd_search(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "any")
    if scope is None:
        return
    args = _args(update, 1)
    if not args:
        await _say(update, context, _usage(context.tr, "search"))
        return
    tr = context.tr
    found = await svc.search(context.deps, scope, args[0])
    if not found:
        await _say(update, context, tr._("Nothing found for «{query}».").format(
            query=args[0]))
        return
    lines = [tr._("Found {count}:").format(count=tr.digits(len(found)))]
    lines += [await svc.queue_line(context.deps, tr, t) for t in found]
    await _say(update, context, "\n".join(lines),
               list_buttons(tr, found, feature="search", kind="all", page=0,
                            total=len(found), page_size=len(found)))


async def cmd_templates(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "staff")
    if scope is None:
        return
    tr = context.tr
    items = await svc.templates(context.deps, scope)
    lines = [tr._("Ready answers. Use one with /reply CODE #number, or with the "
                  "«📋 Templates» button on a request.")]
    lines += [f"#{tr.digits(t.id)} {t.title}: {t.body}" for t in items]
    await _say(update, context, "\n".join(lines))


async def cmd_stats(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "any")
    if scope is None:
        return
    tr = context.tr
    lines = await svc.stats(context.deps, tr, scope)
    if not lines:
        await _say(update, context, tr._("No requests yet."))
        return
    out = [tr._("📊 Requests by house and neighbourhood:")]
    for line in lines:
        median = (format_duration(line.median_first_response, tr.locale)
                  if line.median_first_response is not None else "—")
        share = (tr.digits(f"{round(line.within_window * 100)}") + "٪" if tr.locale == "fa"
                 else f"{round(line.within_window * 100)}%") if line.within_window is not None \
            else "—"
        out.append(tr._("{house} · {neighbourhood}: open {open}, overdue {overdue}, median "
                        "first answer {median}, answered within the window {share}").format(
            house=line.house, neighbourhood=line.neighbourhood, open=tr.digits(line.open),
            overdue=tr.digits(line.overdue), median=median, share=share))
    await _say(update, context, "\n".join(out))


async def cmd_export(update: Update, context: CustomContext) -> None:
    scope = await _guard(update, context, "any")
    if scope is None:
        return
    tr = context.tr
    deps = context.deps
    args = _args(update, 2)
    tz = deps.settings.tz
    today = deps.clock.now().astimezone(tz).replace(hour=0, minute=0, second=0,
                                                    microsecond=0)
    start, end = today - timedelta(days=30), today + timedelta(days=1)
    if args:
        first = svc.parse_day(args[0], tz)
        last = svc.parse_day(args[1].split()[0], tz) if len(args) > 1 else first
        if first is None or last is None or last < first:
            await _say(update, context, tr._(
                "Write the dates like /export 1405-09-01 1405-09-30 (Jalali) or "
                "/export 2026-11-22 2026-12-21. Without dates: the last 30 days."))
            return
        start, end = first, last + timedelta(days=1)
    data, count = await svc.export_csv(deps, tr, scope, start, end)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id, document=data, filename=f"requests-{start:%Y%m%d}-{end:%Y%m%d}.csv",
        caption=tr._("{count} requests.").format(count=tr.digits(count)))


# ---------------------------------------------------------------------------- buttons

async def on_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    data = callbacks.parse(query.data)
    ticket_id = data.int_arg(0) if data else None
    tr = context.tr
    if data is None:
        await stale_button(update, context)
        return
    if data.action == "q":
        scope = await scope_of(update, context)
        kind = data.args[0] if data.args else ""
        page = data.int_arg(1)
        if scope is None or not scope.is_staff or kind not in svc.QUEUE_FILTERS or page is None:
            await stale_button(update, context)
            return
        await query.answer()
        await show_queue(update, context, scope, kind, page)
        return
    scope = await scope_of(update, context)
    if ticket_id is None or scope is None or not scope.areas:
        await stale_button(update, context)
        return
    ref = Ref(ticket_id=ticket_id)
    try:   # scope check before any further question
        ticket, _ = await svc.show(context.deps, tr, scope, ref, history=False)
    except NotFound:
        await query.answer(not_found_text(tr, ref), show_alert=True)
        return
    await query.answer()
    action = data.action
    staff_only = {"take", "reply", "ask", "tpls", "tpl", "xfer", "xferto", "close", "cr",
                  "reopen"}
    if action in staff_only and not scope.is_staff:
        await _say(update, context, not_found_text(tr, ref))
        return
    if action in ("show", "hist"):
        await do_show(update, context, scope, ref, history=action == "hist")
    elif action == "files":
        await do_files(update, context, scope, ref)
    elif action == "take":
        await do_take(update, context, scope, ref)
    elif action == "reply":
        await _prompt(update, context, tr._("✍️ Write your answer to {code} for the "
                                            "resident.").format(code=ticket.code),
                      "reply", ticket.id)
    elif action == "ask":
        await _prompt(update, context, tr._("✍️ Write your question about {code} for the "
                                            "resident.").format(code=ticket.code),
                      "ask", ticket.id)
    elif action == "note":
        await _prompt(update, context, tr._("✍️ Write the internal note for {code}.").format(
            code=ticket.code), "note", ticket.id)
    elif action == "tpls":
        items = await svc.templates(context.deps, scope)
        from bot.ui.staff import _b

        await _say(update, context, tr._("Which ready answer should go to the resident of "
                                         "{code}?").format(code=ticket.code) + "\n" +
                   "\n".join(f"#{tr.digits(t.id)} {t.title}: {t.body}" for t in items),
                   InlineKeyboardMarkup([[_b(f"#{tr.digits(t.id)} {t.title}", "st", "tpl",
                                             ticket.id, t.id)] for t in items]))
    elif action == "tpl":
        template_id = data.int_arg(1)
        if template_id is None:
            return

        async def work() -> str:
            sent = await svc.use_template(context.deps, scope, ref, template_id)
            return tr._("✅ Your answer to {code} was sent to the resident.").format(
                code=sent.code)
        await _run(update, context, ref, work)
    elif action == "xfer":
        await _say(update, context, tr._("To which house should {code} go?").format(
            code=ticket.code), house_buttons(tr, await houses(context.deps), ticket,
                                             "xferto", "st"))
    elif action == "xferto" and len(data.args) > 1:
        await _prompt(update, context, tr._("✍️ Why does {code} go to another house?").format(
            code=ticket.code), "transfer", ticket.id, data.args[1])
    elif action == "close":
        await _say(update, context, tr._("Why is {code} being closed?").format(
            code=ticket.code), close_buttons(tr, ticket))
    elif action == "cr" and len(data.args) > 1 and data.args[1] in set(CloseReason):
        reason = CloseReason(data.args[1])
        text = (tr._("✍️ Write the code of the original request, then a message for the "
                     "resident.") if reason is CloseReason.DUPLICATE else
                tr._("✍️ Write the message for the resident (say where to go if it is not "
                     "your responsibility).") if reason is CloseReason.NOT_OUR_RESPONSIBILITY
                else tr._("✍️ Write the message for the resident."))
        await _prompt(update, context, text, "close", ticket.id, reason.value)
    elif action == "reopen":
        await do_reopen(update, context, scope, ref)
    else:
        await _say(update, context, tr._("This menu has expired."))


# ---------------------------------------------------------------------------- replies

async def on_reply(update: Update, context: CustomContext) -> None:
    """A Telegram reply to a prompt or to a ticket card/announcement. Anything else (e.g. a
    resident answering staff) passes on to the next handler group."""
    message = _message(update)
    target = message.reply_to_message
    if target is None or target.from_user is None or not target.from_user.is_bot:
        return
    if not context.roles:
        return
    text = message.text or ""
    prompts: dict[str, list[Any]] = (context.user_data or {}).get("prompts", {})
    entry = prompts.pop(str(target.message_id), None)
    scope = await scope_of(update, context)
    if scope is None:
        return
    if entry is not None:
        action, ticket_id, extra = entry
        ref = Ref(ticket_id=int(ticket_id))
        if action == "reply":
            await do_reply(update, context, scope, ref, text)
        elif action == "ask":
            await do_ask(update, context, scope, ref, text)
        elif action == "note":
            await do_note(update, context, scope, ref, text)
        elif action in ("transfer", "route"):
            await do_move(update, context, scope, ref, extra, text,
                          Action.TRANSFER if action == "transfer" else Action.ROUTE)
        elif action == "close":
            await do_close(update, context, scope, ref, CloseReason(extra), text)
        elif action == "dup":
            await do_close(update, context, scope, ref, CloseReason.DUPLICATE, text,
                           need="mayor")
        raise ApplicationHandlerStop
    cards: dict[str, int] = (context.chat_data or {}).get("cards", {})
    chat = update.effective_chat
    assert chat is not None
    ticket_id = cards.get(str(target.message_id))
    if ticket_id is None:
        ticket_id = await ticket_for_message(context.deps, chat.id, target.message_id)
    if ticket_id is None or not scope.is_staff:
        return
    ref = Ref(ticket_id=ticket_id)
    try:
        await svc.show(context.deps, context.tr, scope, ref, history=False)
    except NotFound:
        return   # e.g. a staff member who is also a resident answering about their own
    await do_reply(update, context, scope, ref, text)
    raise ApplicationHandlerStop


# Runs in an earlier handler group than the features: replies to prompts and cards.
PRIORITY_GROUP = -10
PRIORITY_HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, on_reply),
]

HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("queue", cmd_queue),
    CommandHandler("overdue", cmd_overdue),
    CommandHandler("show", cmd_show),
    CommandHandler("take", cmd_take),
    CommandHandler("reply", _text_command("reply", "staff", do_reply)),
    CommandHandler("ask", _text_command("ask", "staff", do_ask)),
    CommandHandler("note", _text_command("note", "any", do_note)),
    CommandHandler("transfer", cmd_transfer),
    CommandHandler("close", cmd_close),
    CommandHandler("reopen", cmd_reopen),
    CommandHandler("search", cmd_search),
    CommandHandler("templates", cmd_templates),
    CommandHandler("stats", cmd_stats),
    CommandHandler("export", cmd_export),
    CommandHandler("files", cmd_files),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern("st")),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern("ticket")),
]
