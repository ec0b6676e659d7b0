"""The toolkit staff and mayor handlers share: who may act here (scope guard), the words of
a command, answering in the chat, prompts whose Telegram reply does the action, ticket cards
a reply can answer, and running a use case with its refusal shown in the reader's language.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Literal

from telegram import ForceReply, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.context import CustomContext
from bot.domain.text import strip_marks
from bot.domain.tickets import Action, CloseReason
from bot.i18n import Translator
from bot.services import prompts
from bot.services import staff as svc
from bot.services.errors import NotFound, Refused
from bot.services.prompts import Prompt
from bot.services.roles import Scope
from bot.services.staff import ListView, Ref, current_scope
from bot.ui import cards, errors
from bot.ui.labels import CLOSE_REASON, localized

Need = Literal["staff", "mayor", "any"]

# What a Telegram reply to a prompt does: (update, context, scope, ticket, extra, text).
PromptAnswer = Callable[[Update, CustomContext, Scope, Ref, str, str], Awaitable[None]]
# What a reply to a card or announcement does: (update, context, scope, ticket id, text);
# False lets the message pass on to the next handler group.
CardReply = Callable[[Update, CustomContext, Scope, int, str], Awaitable[bool]]


def message(update: Update) -> Message:
    found = update.effective_message
    assert found is not None
    return found


def is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type != ChatType.PRIVATE


def chat_id(update: Update) -> int:
    chat = update.effective_chat
    assert chat is not None
    return chat.id


async def scope_of(update: Update, context: CustomContext) -> Scope | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or not context.roles:
        return None
    return await current_scope(context.deps, user.id, context.roles, chat.id, is_group(update))


async def say(update: Update, context: CustomContext, text: str,
              markup: InlineKeyboardMarkup | ForceReply | None = None) -> Message:
    """Answer in the chat where the person acted (command or button)."""
    return await context.bot.send_message(chat_id(update), text, reply_markup=markup)


def not_found_text(tr: Translator, ref: Ref) -> str:
    return errors.not_found_text(tr, ref.code or "")


async def guard(update: Update, context: CustomContext, need: Need) -> Scope | None:
    """The person's scope if they may use `need` ("staff", "mayor", "any") commands here."""
    tr = context.tr
    scope = await scope_of(update, context)
    ok = scope is not None and (
        (need == "staff" and scope.is_staff) or (need == "mayor" and scope.is_mayor)
        or (need == "any" and bool(scope.areas)))
    if ok:
        return scope
    if is_group(update) and context.has_role("staff", "supervisor", "admin"):
        await say(update, context, tr._("This group is not bound to your house. A staff "
                                        "member can bind it with /bind."))
    elif need == "mayor":
        await say(update, context, tr._("This command is for neighbourhood mayors."))
    else:
        await say(update, context, tr._("This command is for house staff and "
                                        "neighbourhood mayors."))
    return None


def command_args(update: Update, count: int) -> list[str]:
    """Words after the command; the last one keeps the rest of the text (with newlines)."""
    text = strip_marks(message(update).text or "")  # codes copied with their bidi marks
    parts = text.split(None, count)
    return [p.strip() for p in parts[1:]]


async def run(update: Update, context: CustomContext, ref: Ref,
              work: Callable[[], Awaitable[str]]) -> bool:
    """Do a use case and say its result, or why not (not found, refused)."""
    try:
        text = await work()
    except NotFound:
        await say(update, context, not_found_text(context.tr, ref))
        return False
    except Refused as exc:
        await say(update, context, errors.refused_text(context.tr, exc))
        return False
    await say(update, context, text)
    return True


# ---------------------------------------------------------------------------- prompts, cards

def prompt_hint(tr: Translator, update: Update) -> str:
    """How to answer a prompt here: in a group the bot sees only replies to it (privacy
    mode); in a private chat the next message does as well."""
    if is_group(update):
        return tr._("(reply to this message; /cancel to stop)")
    return tr._("(send it as your next message; /cancel to stop)")


async def prompt(update: Update, context: CustomContext, text: str, action: str,
                 ticket_id: int, extra: str = "") -> None:
    """Ask for the text of an action; the answer is a Telegram reply to this prompt by the
    same person in this chat or, in a private chat, their next plain message within
    `prompts.PENDING_MINUTES` (kept in our database, so it survives a restart)."""
    user = update.effective_user
    assert user is not None
    sent = await say(update, context, text + "\n" + prompt_hint(context.tr, update),
                     ForceReply(selective=True))
    await prompts.save_prompt(context.deps, Prompt(sent.chat_id, sent.message_id, user.id,
                                                   action, ticket_id, extra))


async def answered_prompt(update: Update, context: CustomContext, message_id: int
                          ) -> Prompt | None:
    """The prompt this reply answers (used up), also one made before prompts moved to our
    tables (then kept in the person's PTB user_data)."""
    user = update.effective_user
    assert user is not None
    found = await prompts.answer_prompt(context.deps, chat_id(update), message_id, user.id)
    if found is not None:
        return found
    old: dict[str, list[Any]] = (context.user_data or {}).get("prompts", {})
    entry: list[Any] = old.pop(str(message_id), []) or []
    try:
        action, ticket_id, extra = entry
        return Prompt(chat_id(update), message_id, user.id, str(action), int(ticket_id),
                      str(extra))
    except (TypeError, ValueError):
        return None


def reply_router(answers: Mapping[str, PromptAnswer], card_reply: CardReply
                 ) -> Callable[[Update, CustomContext], Coroutine[Any, Any, None]]:
    """The handler of Telegram replies to the bot: a reply to a prompt goes to its action's
    answer (each feature module brings its table); a reply to a card to `card_reply`.
    Anything else (e.g. a resident answering staff) passes on to the next handler group."""
    async def on_reply(update: Update, context: CustomContext) -> None:
        target = message(update).reply_to_message
        if target is None or target.from_user is None or not target.from_user.is_bot:
            return
        scope = await scope_of(update, context) if context.roles else None
        if scope is None:
            return
        text = message_text(update)
        prompt = await answered_prompt(update, context, target.message_id)
        if prompt is not None:
            await _answer(update, context, answers, scope, prompt, text)
            raise ApplicationHandlerStop
        ticket_id = await card_ticket(update, context, target.message_id)
        if ticket_id is not None and await card_reply(update, context, scope, ticket_id, text):
            raise ApplicationHandlerStop
    return on_reply


def media_of(update: Update) -> svc.StaffMedia | None:
    """The photo, voice note, video or file of this message (a staff answer), if any."""
    found = message(update)
    item: Any = found.photo[-1] if found.photo else None
    kind = "photo"
    for name in ("voice", "video", "audio", "document"):
        if item is None and getattr(found, name, None) is not None and not found.animation:
            item, kind = getattr(found, name), name
    if item is None:
        return None
    return svc.StaffMedia(kind, item.file_id, item.file_unique_id, found.chat_id,
                          found.message_id)


def message_text(update: Update) -> str:
    """The words of a message: its text, or the caption of a photo, voice note or file."""
    found = message(update)
    return found.text or found.caption or ""


async def _answer(update: Update, context: CustomContext, answers: Mapping[str, PromptAnswer],
                  scope: Scope, prompt: Prompt, text: str) -> None:
    answer = answers.get(prompt.action)
    if answer is None:
        await say(update, context, context.tr._("This menu has expired."))
        return
    await answer(update, context, scope, Ref(ticket_id=prompt.ticket_id), prompt.extra, text)


def pending_router(answers: Mapping[str, PromptAnswer]
                   ) -> Callable[[Update, CustomContext], Coroutine[Any, Any, None]]:
    """A plain message (no Telegram reply) in a private chat answers that person's newest
    prompt of the last minutes, before any resident form or the bare-code lookup sees it."""
    async def on_plain(update: Update, context: CustomContext) -> None:
        user = update.effective_user
        if not context.roles or user is None or is_group(update):
            return
        prompt = await prompts.pending_prompt(context.deps, chat_id(update), user.id)
        if prompt is None:
            return
        scope = await scope_of(update, context)
        if scope is None:
            return
        await _answer(update, context, answers, scope, prompt, message_text(update))
        raise ApplicationHandlerStop
    return on_plain


async def cancel_prompt(update: Update, context: CustomContext) -> None:
    """/cancel while a prompt waits: forget it (otherwise /cancel goes on to the forms)."""
    user = update.effective_user
    if not context.roles or user is None:
        return
    if await prompts.cancel_pending(context.deps, chat_id(update), user.id):
        await say(update, context, context.tr._("Stopped. Nothing was done."))
        raise ApplicationHandlerStop


async def remember_card(context: CustomContext, sent: Message, ticket_id: int) -> None:
    """A Telegram reply to this card becomes a reply to its ticket."""
    await prompts.save_card(context.deps, sent.chat_id, sent.message_id, ticket_id)


async def card_ticket(update: Update, context: CustomContext, message_id: int) -> int | None:
    """The ticket of a card or relayed notification this message replies to; cards sent
    before the upgrade are still found in PTB chat_data."""
    old: dict[str, int] = (context.chat_data or {}).get("cards", {})
    if str(message_id) in old:
        return int(old[str(message_id)])
    return await prompts.card_ticket(context.deps, chat_id(update), message_id)


# ---------------------------------------------------------------------------- shared actions

async def do_move(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                  house: str, reason: str, action: Action) -> None:
    """Transfer (staff) or re-route (mayor) to another house."""
    tr = context.tr

    async def work() -> str:
        ticket = await svc.move(context.deps, scope, ref, house, reason, action=action)
        found = [h for h in await svc.houses(context.deps) if h.id == ticket.house_id]
        name = localized(tr, found[0].name_fa, found[0].name_en) if found else house
        return tr._("📨 {code} now goes to {house}; its staff were told.").format(
            code=ticket.code, house=name)
    await run(update, context, ref, work)


async def do_close(update: Update, context: CustomContext, scope: Scope, ref: Ref,
                   reason: CloseReason, text: str, *, need: Need = "staff") -> None:
    """Close with a reason; for a duplicate `text` starts with the original's code."""
    tr = context.tr
    duplicate = None
    if reason is CloseReason.DUPLICATE:
        duplicate, _, text = text.strip().partition(" ")

    async def work() -> str:
        ticket = await svc.close(context.deps, scope, ref, reason, text,
                                 duplicate_code=duplicate, need=need)
        return tr._("✅ {code} is closed ({reason}); the resident was told.").format(
            code=ticket.code, reason=tr._(CLOSE_REASON[reason]))
    await run(update, context, ref, work)


def list_text(tr: Translator, header: str, view: ListView) -> str:
    """A header, then one line per ticket of a queue, inbox or search result."""
    return "\n".join([header, *(cards.list_line(tr, item, view.now, view.calendar)
                                 for item in view.items)])
