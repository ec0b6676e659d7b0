"""The resident's open form (conversation) state: JSON only, kept in user_data.

Shared by resident_place / resident_new / resident_track; the conversation itself is built
in resident_new.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import ConversationHandler

from bot.context import CustomContext
from bot.ui.menus import main_menu

# Conversation states (strings: persisted as JSON).
PLACE = "place"
KIND = "kind"
CATEGORY = "category"
DUP = "dup"
DESCRIBE = "describe"
EXTRAS = "extras"
CONFIRM = "confirm"
RATE_COMMENT = "rate_comment"
REOPEN_REASON = "reopen_reason"
END = ConversationHandler.END

Form = dict[str, Any]
Step = Callable[[Update, CustomContext], Coroutine[Any, Any, object]]


def new_form(context: CustomContext, mode: str, **values: Any) -> Form:
    """Start a fresh form; the id doubles as the idempotency key of the filing."""
    form: Form = {"id": uuid.uuid4().hex, "mode": mode, "text": [], "files": [], **values}
    assert context.user_data is not None
    context.user_data["form"] = form
    touch(context)
    return form


def form_of(context: CustomContext) -> Form:
    assert context.user_data is not None
    form = context.user_data.get("form")
    if not isinstance(form, dict):
        form = new_form(context, "new")
    return form


def touch(context: CustomContext) -> None:
    assert context.user_data is not None
    form = context.user_data.get("form")
    if isinstance(form, dict):
        form["at"] = context.deps.clock.now().isoformat()


def clear(context: CustomContext) -> None:
    if context.user_data is not None:
        context.user_data.pop("form", None)


def expired(context: CustomContext) -> bool:
    """Idle longer than the timeout by the bot's clock (also across restarts)."""
    assert context.user_data is not None
    form = context.user_data.get("form")
    if not isinstance(form, dict) or "at" not in form:
        return False
    last = datetime.fromisoformat(str(form["at"]))
    limit = timedelta(minutes=context.deps.settings.conversation_timeout_minutes)
    return context.deps.clock.now() - last > limit


async def send_timeout(update: Update, context: CustomContext) -> None:
    clear(context)
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


def step(fn: Step) -> Step:
    """Wrap a state callback: an expired form ends with a message instead of acting."""

    async def wrapper(update: Update, context: CustomContext) -> object:
        if expired(context):
            if update.callback_query is not None:
                await update.callback_query.answer()
            await send_timeout(update, context)
            return END
        result = await fn(update, context)
        touch(context)
        return result

    wrapper.__name__ = getattr(fn, "__name__", "step")
    wrapper.__doc__ = fn.__doc__
    return wrapper


async def on_timeout(update: object, context: CustomContext) -> None:
    """PTB's own conversation_timeout (real time) lands here."""
    if isinstance(update, Update):
        await send_timeout(update, context)
