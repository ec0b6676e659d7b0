"""What the resident conversation's steps share: the states, the step wrapper that resumes
the form (our `forms` table, through `bot.services.resident_forms`) or ends it politely when
it expired, and the kind question both the place picker and the filing steps lead to.

The conversation itself is built in `handlers.resident_conversation`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ConversationHandler

from bot.context import CustomContext
from bot.domain.forms import (
    CATEGORY,
    CONFIRM,
    DESCRIBE,
    DUP,
    EXTRAS,
    KIND,
    PLACE,
    RATE_COMMENT,
    REOPEN_REASON,
    URGENT_REASON,
    ResidentForm,
)
from bot.domain.models import Neighbourhood
from bot.services import resident_forms as forms
from bot.services.errors import Refused
from bot.ui.errors import refused_text
from bot.ui.menus import main_menu
from bot.ui.resident import kind_keyboard, neighbourhood_name

__all__ = ["CATEGORY", "CONFIRM", "DESCRIBE", "DUP", "END", "EXTRAS", "KIND", "PLACE",
           "RATE_COMMENT", "REOPEN_REASON", "URGENT_REASON"]

END = ConversationHandler.END
Handler = Callable[[Update, CustomContext], Coroutine[Any, Any, object]]
FormStep = Callable[[Update, CustomContext, ResidentForm], Coroutine[Any, Any, object]]


async def reply(update: Update, context: CustomContext, text: str, markup: Any = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


async def answer_refused(update: Update, context: CustomContext, exc: Refused) -> None:
    """A refusal on a button: the small popup (e.g. "This menu has expired.")."""
    assert update.callback_query is not None
    await update.callback_query.answer(refused_text(context.tr, exc))


def ids(update: Update) -> tuple[int, int]:
    """(person, chat) of the update."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return user.id, chat.id


async def end_form(update: Update, context: CustomContext) -> None:
    await forms.end(context.deps, ids(update)[0])


async def send_timeout(update: Update, context: CustomContext) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    minutes = context.tr.digits(context.deps.settings.conversation_timeout_minutes)
    await context.bot.send_message(
        chat.id,
        context.tr._("⌛ Your unfinished form was closed after {minutes} minutes without "
                     "activity. Nothing was sent. Press «📝 New request» to start again."
                     ).format(minutes=minutes),
        reply_markup=main_menu(context.tr))


def step(fn: FormStep) -> Handler:
    """Wrap a state callback: it gets the resident's form; an expired (or lost) form ends
    with a message instead of acting. A form kept in PTB's user_data by an earlier version
    is read once and moved to the forms table."""

    async def wrapper(update: Update, context: CustomContext) -> object:
        person_id, chat_id = ids(update)
        legacy = context.user_data.pop("form", None) if context.user_data is not None else None
        form = await forms.resume(context.deps, person_id, chat_id, legacy)
        if form is None:
            if update.callback_query is not None:
                await update.callback_query.answer()
            await send_timeout(update, context)
            return END
        return await fn(update, context, form)

    wrapper.__name__ = getattr(fn, "__name__", "step")
    wrapper.__doc__ = fn.__doc__
    return wrapper


async def on_timeout(update: object, context: CustomContext) -> None:
    """PTB's own conversation_timeout (real time) lands here."""
    if isinstance(update, Update) and update.effective_user is not None:
        await end_form(update, context)
        await send_timeout(update, context)


async def ask_kind(update: Update, context: CustomContext, n: Neighbourhood | None) -> object:
    """Need, complaint or suggestion? (After the place, a /new, or «🔙 Back».)"""
    tr = context.tr
    name = neighbourhood_name(tr, n) if n is not None else ""
    await reply(update, context, tr._(
        "📍 Neighbourhood: {name} (to change it: /neighbourhood)\n\n"
        "What would you like to send?").format(name=name), kind_keyboard(tr))
    return KIND
