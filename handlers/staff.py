"""Commands and buttons of house staff and mayors on tickets (private chat and bound group).

Every entry point resolves the person's scope first; a ticket outside it gets exactly the
"not found" answer a missing ticket gets. Buttons carry only the ticket id; the scope is
checked again on every press, so stale or forged data never acts. The lists and reports
(/queue, /search, /stats, /export) are in `handlers.staff_reports`; the shared toolkit is
`handlers.ticket_kit`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import CustomContext
from bot.domain.tickets import Action, CloseReason
from bot.i18n import N_, Translator
from bot.services import staff as svc
from bot.services.errors import NotFound
from bot.services.roles import Scope
from bot.services.staff import CardView, Ref
from bot.ui import callbacks
from bot.ui.buttons import (
    CardAction,
    CardButton,
    CloseWith,
    NoticeButton,
    TransferTo,
    UseTemplate,
)
from bot.ui.cards import card_text
from bot.ui.labels import house_choices
from bot.ui.menus import MenuItem, all_labels
from bot.ui.notices import ticket_buttons
from bot.ui.staff import card_buttons, close_buttons, house_buttons, template_buttons
from handlers import mayor, staff_reports
from handlers import ticket_kit as kit
from handlers.fallback import stale_button
from handlers.ticket_kit import PromptAnswer, do_close, do_move, say

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- doing

async def send_card(update: Update, context: CustomContext, scope: Scope,
                    view: CardView) -> None:
    """The card (in parts when long), each part with the buttons and remembered so a reply
    to it answers the ticket."""
    tr = context.tr
    text = card_text(tr, view, context.deps.settings.timezone)
    for part in _chunks(text):
        sent = await say(update, context, part,
                         card_buttons(tr, scope, view.ticket, files=view.has_files))
        await kit.remember_card(context, sent, view.ticket.id)


async def do_show(update: Update, context: CustomContext, scope: Scope, ref: Ref, *,
                  history: bool) -> None:
    try:
        view = await svc.show(context.deps, scope, ref, history=history)
    except NotFound:
        await say(update, context, kit.not_found_text(context.tr, ref))
        return
    await send_card(update, context, scope, view)


async def show_in_scope(update: Update, context: CustomContext, code: str) -> bool:
    """The card of the request with this code if it is in the person's scope here."""
    scope = await kit.scope_of(update, context)
    if scope is None or not scope.areas:
        return False
    try:
        view = await svc.show(context.deps, scope, Ref(code=code), history=False)
    except NotFound:
        return False
    await send_card(update, context, scope, view)
    return True


async def do_files(update: Update, context: CustomContext, scope: Scope, ref: Ref) -> None:
    """Send the ticket's files and location to the person who asked, in this chat: each with
    the method of its kind, by Telegram file id (nothing is downloaded)."""
    tr = context.tr
    try:
        ticket, items = await svc.files(context.deps, scope, ref)
    except NotFound:
        await say(update, context, kit.not_found_text(tr, ref))
        return
    located = ticket.lat is not None and ticket.lon is not None
    if not items and not located:
        await say(update, context, tr._("Request {code} has no attachments and no "
                                        "location.").format(code=ticket.code))
        return
    await say(update, context, tr.ngettext(
        "📎 Request {code}: {n} attachment", "📎 Request {code}: {n} attachments",
        len(items)).format(code=ticket.code, n=tr.digits(len(items))))
    chat_id = kit.chat_id(update)
    failed = 0
    for item in items:
        try:
            await _send_file(context, chat_id, item.kind, item.file_id, item.caption)
        except TelegramError as exc:   # e.g. a file id from another bot token
            log.warning("attachment %s of ticket %s not sent: %s", item.id, ticket.id, exc)
            failed += 1
    if located:
        assert ticket.lat is not None and ticket.lon is not None
        await context.bot.send_location(chat_id, latitude=ticket.lat, longitude=ticket.lon)
    if failed:
        await say(update, context, tr.ngettext(
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


async def do_take(update: Update, context: CustomContext, scope: Scope, ref: Ref) -> bool:
    tr = context.tr

    async def work() -> str:
        ticket, got = await svc.take(context.deps, scope, ref)
        return (tr._("✋ You took {code}. Reply with /reply {code} text.") if got else
                tr._("You already have {code}.")).format(code=ticket.code)
    return await kit.run(update, context, ref, work)


async def refresh_pressed(update: Update, context: CustomContext, scope: Scope,
                          ticket_id: int, *, card: bool) -> None:
    """After a change by button: the pressed card shows the ticket as it is now (no Take
    once taken); an announcement keeps only its Show button."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        view = await svc.show(context.deps, scope, Ref(ticket_id=ticket_id), history=False)
    except NotFound:
        return
    tr = context.tr
    text = card_text(tr, view, context.deps.settings.timezone)
    try:
        if card and len(_chunks(text)) == 1:
            await query.edit_message_text(text, reply_markup=card_buttons(
                tr, scope, view.ticket, files=view.has_files))
        else:
            await query.edit_message_reply_markup(ticket_buttons(tr, ticket_id,
                                                                 can_take=False))
    except TelegramError as exc:   # e.g. not modified, or too old to edit
        log.info("card %s not refreshed: %s", ticket_id, exc)


async def do_reply(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                   text: str) -> None:
    tr = context.tr

    media = kit.media_of(update)

    async def work() -> str:
        body = await svc.expand_template(context.deps, scope, text) if media is None else text
        ticket = await svc.reply(context.deps, scope, ref, body, media=media)
        return tr._("✅ Your answer to {code} was sent to the resident.").format(
            code=ticket.code)
    await kit.run(update, context, ref, work)


async def do_use_template(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                          template_id: int) -> None:
    tr = context.tr

    async def work() -> str:
        sent = await svc.use_template(context.deps, scope, ref, template_id)
        return tr._("✅ Your answer to {code} was sent to the resident.").format(
            code=sent.code)
    await kit.run(update, context, ref, work)


async def do_ask(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                 text: str) -> None:
    tr = context.tr

    async def work() -> str:
        ticket = await svc.ask(context.deps, scope, ref, text)
        return tr._("✅ Question about {code} sent. The clock is paused until the resident "
                    "answers.").format(code=ticket.code)
    await kit.run(update, context, ref, work)


async def do_note(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                  text: str) -> None:
    tr = context.tr

    async def work() -> str:
        ticket = await svc.note(context.deps, scope, ref, text)
        return tr._("🔒 Internal note saved on {code}. Residents never see it.").format(
            code=ticket.code)
    await kit.run(update, context, ref, work)


async def do_reopen(update: Update, context: CustomContext, scope: Scope, ref: Ref) -> None:
    tr = context.tr

    async def work() -> str:
        ticket = await svc.reopen(context.deps, scope, ref)
        return tr._("🔁 {code} is open again with a new deadline.").format(code=ticket.code)
    await kit.run(update, context, ref, work)


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
        "files": tr._("Write the code: /files CODE"),
    }
    return usages[command]


def _code_command(name: str, need: kit.Need,
                  action: Callable[[Update, CustomContext, Scope, Ref], Awaitable[object]]
                  ) -> Callable[[Update, CustomContext], Coroutine[Any, Any, None]]:
    """`/name CODE`: the guard, the code, then `action`."""
    async def handler(update: Update, context: CustomContext) -> None:
        scope = await kit.guard(update, context, need)
        if scope is None:
            return
        args = kit.command_args(update, 1)
        if not args:
            await say(update, context, _usage(context.tr, name))
            return
        await action(update, context, scope, Ref.parse(args[0]))
    return handler


def _text_command(name: str, need: kit.Need,
                  action: Callable[[Update, CustomContext, Scope, Ref, str], Awaitable[None]]
                  ) -> Callable[[Update, CustomContext], Coroutine[Any, Any, None]]:
    """`/name CODE text`."""
    async def handler(update: Update, context: CustomContext) -> None:
        scope = await kit.guard(update, context, need)
        if scope is None:
            return
        args = kit.command_args(update, 2)
        if len(args) < 2:
            await say(update, context, _usage(context.tr, name))
            return
        await action(update, context, scope, Ref.parse(args[0]), args[1])
    return handler


async def _show_card(update: Update, context: CustomContext, scope: Scope, ref: Ref) -> None:
    await do_show(update, context, scope, ref, history=True)


async def cmd_transfer(update: Update, context: CustomContext) -> None:
    scope = await kit.guard(update, context, "staff")
    if scope is None:
        return
    args = kit.command_args(update, 2)
    if len(args) < 2 or len(args[1].split()) < 2:
        await say(update, context, _usage(context.tr, "transfer").format(
            houses=house_choices(context.tr, await svc.houses(context.deps))))
        return
    # The house by code or Persian name, at the start of the rest (bot.services.houses).
    await do_move(update, context, scope, Ref.parse(args[0]), "", args[1], Action.TRANSFER)


async def cmd_close(update: Update, context: CustomContext) -> None:
    scope = await kit.guard(update, context, "staff")
    if scope is None:
        return
    args = kit.command_args(update, 3)
    if not args:
        await say(update, context, _usage(context.tr, "close"))
        return
    ref = Ref.parse(args[0])
    if len(args) == 1:
        try:
            ticket = await svc.in_scope(context.deps, scope, ref)
        except NotFound:
            await say(update, context, kit.not_found_text(context.tr, ref))
            return
        await say(update, context, context.tr._("Why is {code} being closed?").format(
            code=ticket.code), close_buttons(context.tr, ticket))
        return
    reason = REASON_WORDS.get(args[1].lower())
    if reason is None:
        await say(update, context, _usage(context.tr, "close"))
        return
    await do_close(update, context, scope, ref, reason, " ".join(args[2:]))


# ---------------------------------------------------------------------------- buttons

ButtonRun = Callable[[Update, CustomContext, Scope, CardView, Any], Awaitable[None]]


@dataclass(frozen=True)
class Press:
    """What a card button does with the card it was pressed on (`run`), and who may: house
    staff only, or anyone with the ticket in scope (mayors too)."""

    run: ButtonRun
    staff_only: bool = True
    history: bool = False


async def _press_show(update: Update, context: CustomContext, scope: Scope, view: CardView,
                      _item: object) -> None:
    await send_card(update, context, scope, view)


async def _press_files(update: Update, context: CustomContext, scope: Scope, view: CardView,
                       _item: object) -> None:
    await do_files(update, context, scope, Ref(ticket_id=view.ticket.id))


async def _press_take(update: Update, context: CustomContext, scope: Scope, view: CardView,
                      item: object) -> None:
    if await do_take(update, context, scope, Ref(ticket_id=view.ticket.id)):
        await refresh_pressed(update, context, scope, view.ticket.id,
                              card=isinstance(item, CardButton))


async def _press_reopen(update: Update, context: CustomContext, scope: Scope,
                        view: CardView, _item: object) -> None:
    await do_reopen(update, context, scope, Ref(ticket_id=view.ticket.id))


def _asking(action: str, question: str) -> ButtonRun:
    """A button that prompts for the text of `action` (`question` has {code})."""
    async def press(update: Update, context: CustomContext, scope: Scope, view: CardView,
                    _item: object) -> None:
        await kit.prompt(update, context, context.tr._(question).format(
            code=view.ticket.code), action, view.ticket.id)
    return press


async def _press_templates(update: Update, context: CustomContext, scope: Scope,
                           view: CardView, _item: object) -> None:
    tr = context.tr
    items = await svc.templates(context.deps, scope)
    await say(update, context, tr._("Which ready answer should go to the resident of "
                                    "{code}?").format(code=view.ticket.code) + "\n" +
              "\n".join(f"#{tr.digits(t.id)} {t.title}: {t.body}" for t in items),
              template_buttons(tr, view.ticket, items))


async def _press_template(update: Update, context: CustomContext, scope: Scope,
                          view: CardView, item: UseTemplate) -> None:
    await do_use_template(update, context, scope, Ref(ticket_id=view.ticket.id),
                          item.template_id)


async def _press_transfer(update: Update, context: CustomContext, scope: Scope,
                          view: CardView, _item: object) -> None:
    tr = context.tr
    await say(update, context, tr._("To which house should {code} go?").format(
        code=view.ticket.code), house_buttons(tr, await svc.houses(context.deps),
                                              view.ticket, TransferTo))


async def _press_transfer_to(update: Update, context: CustomContext, scope: Scope,
                             view: CardView, item: TransferTo) -> None:
    await kit.prompt(update, context, context.tr._(
        "✍️ Why does {code} go to another house?").format(code=view.ticket.code),
        "transfer", view.ticket.id, item.house)


async def _press_close(update: Update, context: CustomContext, scope: Scope, view: CardView,
                       _item: object) -> None:
    await say(update, context, context.tr._("Why is {code} being closed?").format(
        code=view.ticket.code), close_buttons(context.tr, view.ticket))


async def _press_close_with(update: Update, context: CustomContext, scope: Scope,
                            view: CardView, item: CloseWith) -> None:
    tr = context.tr
    if item.reason is CloseReason.WITHDRAWN:
        await say(update, context, tr._("This menu has expired."))
        return
    text = (tr._("✍️ Write the code of the original request, then a message for the "
                 "resident.") if item.reason is CloseReason.DUPLICATE else
            tr._("✍️ Write the message for the resident (say where to go if it is not "
                 "your responsibility).") if item.reason is CloseReason.NOT_OUR_RESPONSIBILITY
            else tr._("✍️ Write the message for the resident."))
    await kit.prompt(update, context, text, "close", view.ticket.id, item.reason.value)


# Keyed by the card action, or by the button class for buttons with more arguments.
PRESSES: dict[object, Press] = {
    CardAction.SHOW: Press(_press_show, staff_only=False),
    CardAction.HISTORY: Press(_press_show, staff_only=False, history=True),
    CardAction.FILES: Press(_press_files, staff_only=False),
    CardAction.NOTE: Press(_asking("note", N_("✍️ Write the internal note for {code}.")),
                           staff_only=False),
    CardAction.TAKE: Press(_press_take),
    CardAction.REPLY: Press(_asking("reply", N_("✍️ Write your answer to {code} for the "
                                                "resident."))),
    CardAction.ASK: Press(_asking("ask", N_("✍️ Write your question about {code} for the "
                                            "resident."))),
    CardAction.TEMPLATES: Press(_press_templates),
    CardAction.TRANSFER: Press(_press_transfer),
    CardAction.CLOSE: Press(_press_close),
    CardAction.REOPEN: Press(_press_reopen),
    UseTemplate: Press(_press_template),
    TransferTo: Press(_press_transfer_to),
    CloseWith: Press(_press_close_with),
}


def _press_key(item: callbacks.CallbackData | None) -> object:
    if isinstance(item, CardButton):
        return item.action
    if isinstance(item, NoticeButton):   # under announcements: the card's show and take
        return CardAction(item.action.value)
    return type(item)


async def on_button(update: Update, context: CustomContext) -> None:
    """Any "st" or "ticket" button on a card: one read of the card (scope check included),
    then the table's action."""
    query = update.callback_query
    assert query is not None
    item = callbacks.unpack(query.data)
    press = PRESSES.get(_press_key(item))
    ticket_id = getattr(item, "ticket_id", None)
    scope = await kit.scope_of(update, context)
    if press is None or not isinstance(ticket_id, int) or scope is None or not scope.areas:
        await stale_button(update, context)
        return
    ref = Ref(ticket_id=ticket_id)
    try:
        view = await svc.show(context.deps, scope, ref, history=press.history)
    except NotFound:
        await query.answer(kit.not_found_text(context.tr, ref), show_alert=True)
        return
    await query.answer()
    if press.staff_only and not scope.is_staff:
        await say(update, context, kit.not_found_text(context.tr, ref))
        return
    await press.run(update, context, scope, view, item)


# ---------------------------------------------------------------------------- replies

async def _answer_close(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                        extra: str, text: str) -> None:
    if extra not in set(CloseReason):
        await say(update, context, context.tr._("This menu has expired."))
        return
    await do_close(update, context, scope, ref, CloseReason(extra), text)


async def _answer_transfer(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                           extra: str, text: str) -> None:
    await do_move(update, context, scope, ref, extra, text, Action.TRANSFER)


def _text_answer(action: Callable[[Update, CustomContext, Scope, Ref, str], Awaitable[None]]
                 ) -> PromptAnswer:
    async def answer(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                     _extra: str, text: str) -> None:
        await action(update, context, scope, ref, text)
    return answer


# The staff's prompts; the mayor's are answered in handlers.mayor.
PROMPT_ANSWERS: dict[str, PromptAnswer] = {
    "reply": _text_answer(do_reply),
    "ask": _text_answer(do_ask),
    "note": _text_answer(do_note),
    "transfer": _answer_transfer,
    "close": _answer_close,
}


async def reply_to_card(update: Update, context: CustomContext, scope: Scope, ticket_id: int,
                        text: str) -> bool:
    """A staff member's Telegram reply to a card or announcement answers the resident."""
    if not scope.is_staff:
        return False
    ref = Ref(ticket_id=ticket_id)
    try:
        await svc.in_scope(context.deps, scope, ref)
    except NotFound:
        return False   # e.g. a staff member who is also a resident answering about their own
    await do_reply(update, context, scope, ref, text)
    return True


# Runs in an earlier handler group than the features: replies to prompts and cards.
PRIORITY_GROUP = -10
_ANSWERS = {**PROMPT_ANSWERS, **mayor.PROMPT_ANSWERS}
# What a staff answer may be: words, or a photo, voice note, video or file with a caption.
_ANSWERABLE = (filters.TEXT | filters.PHOTO | filters.VOICE | filters.VIDEO | filters.AUDIO
               | filters.Document.ALL)
PRIORITY_HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    MessageHandler(filters.REPLY & _ANSWERABLE & ~filters.COMMAND,
                   kit.reply_router(_ANSWERS, reply_to_card)),
]

# Right after: /cancel of a waiting prompt, and in a private chat the next plain message
# answering it (before the resident forms, the bare-code lookup and the fallback).
PENDING_GROUP = -9
_MENU = filters.Text([label for item in MenuItem for label in all_labels(item)])
PENDING_HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("cancel", kit.cancel_prompt),
    MessageHandler(filters.ChatType.PRIVATE & ~filters.REPLY & ~filters.COMMAND & ~_MENU
                   & _ANSWERABLE, kit.pending_router(_ANSWERS)),
]

HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    *staff_reports.HANDLERS,
    CommandHandler("show", _code_command("show", "any", _show_card)),
    CommandHandler("files", _code_command("files", "any", do_files)),
    CommandHandler("take", _code_command("take", "staff", do_take)),
    CommandHandler("reply", _text_command("reply", "staff", do_reply)),
    CommandHandler("ask", _text_command("ask", "staff", do_ask)),
    CommandHandler("note", _text_command("note", "any", do_note)),
    CommandHandler("transfer", cmd_transfer),
    CommandHandler("close", cmd_close),
    CommandHandler("reopen", _code_command("reopen", "staff", do_reopen)),
    CallbackQueryHandler(on_button, pattern=CardButton.pattern()),
    CallbackQueryHandler(on_button, pattern=NoticeButton.pattern()),
]
