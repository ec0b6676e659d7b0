"""The one resident conversation: the filing steps (`resident_new`), the neighbourhood picker
(`resident_place`), the rating comment and the reopen reason (`resident_track`).

Its state lives with the form in our `forms` table (`storage.forms`): the persistence reads
the steps back at start, so a restart resumes where each resident was.
"""

from __future__ import annotations

from enum import Enum

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import Settings
from bot.context import CustomContext
from bot.ui import callbacks
from bot.ui.buttons import (
    ConfirmFiling,
    Consent,
    FormAction,
    FormButton,
    MyAction,
    MyTicket,
    PickCategory,
    PickKind,
    Provinces,
    Rate,
    RateAction,
    RateButton,
    SameSubject,
)
from bot.ui.callbacks import CallbackData
from bot.ui.menus import MenuItem, all_labels, main_menu
from bot.ui.resident import CANCEL_LABEL, CONTINUE_LABEL, labels
from handlers import resident_form as rf
from handlers import resident_new as new
from handlers import resident_place as place
from handlers import resident_track as track

# Namespaces of the buttons that belong to the conversation: a press from an earlier step
# gets "this button is from an earlier step" instead of acting.
FORM_PREFIXES = (FormButton.prefix, Provinces.prefix, Rate.prefix, Consent.prefix)


def pressed(cls: type[CallbackData], action: Enum | None = None) -> str:
    """CallbackQueryHandler pattern of a button class (and one of its actions)."""
    if action is None:
        return cls.pattern()
    return callbacks.pattern(cls.prefix, str(action.value))


async def cancel(update: Update, context: CustomContext) -> object:
    await rf.end_form(update, context)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_reply_markup(None)
    await rf.reply(update, context, context.tr._("Stopped. Nothing was sent. Main menu:"),
                   main_menu(context.tr))
    return rf.END


@rf.step
async def stale_in_form(update: Update, context: CustomContext, form: object) -> object:
    query = update.callback_query
    assert query is not None
    await query.answer(context.tr._("This button is from an earlier step. Please use the "
                                    "latest message, or /cancel."))
    return None


@rf.step
async def form_hint(update: Update, context: CustomContext, form: object) -> object:
    message = update.effective_message
    assert message is not None
    await message.reply_text(context.tr._(
        "Please answer with the buttons of the last message to continue, or send /cancel "
        "to stop."))
    return None


def _entry_points() -> list[BaseHandler[Update, CustomContext, object]]:
    return [
        CommandHandler("start", place.deep_link, filters=filters.Regex(r"^/start n_")),
        CommandHandler("new", new.new_entry),
        MessageHandler(filters.Text(all_labels(MenuItem.NEW)), new.new_entry),
        CallbackQueryHandler(new.consent_yes, pattern=Consent.pattern()),
        CommandHandler("neighbourhood", place.place_entry),
        MessageHandler(filters.Text(all_labels(MenuItem.NEIGHBOURHOOD)), place.place_entry),
        CallbackQueryHandler(new.follow_entry, pattern=pressed(MyTicket, MyAction.FOLLOW)),
        CallbackQueryHandler(track.rate_entry, pattern=Rate.pattern()),
        CallbackQueryHandler(track.reopen_entry,
                             pattern=pressed(RateButton, RateAction.NOT_RESOLVED)),
    ]


def _states(typed: filters.BaseFilter, other: filters.BaseFilter
            ) -> dict[object, list[BaseHandler[Update, CustomContext, object]]]:
    junk = filters.Sticker.ALL | filters.ANIMATION | filters.POLL | filters.Dice.ALL | \
        filters.VIDEO_NOTE
    files = filters.PHOTO | filters.VOICE | filters.VIDEO | filters.AUDIO | \
        filters.Document.ALL
    return {
        rf.PLACE: [
            CallbackQueryHandler(place.on_button, pattern=callbacks.pattern(Provinces.prefix)),
            MessageHandler(filters.LOCATION, place.on_location),
            MessageHandler(filters.Text(labels(CANCEL_LABEL)), cancel),
            MessageHandler(typed, place.on_text),
        ],
        rf.KIND: [CallbackQueryHandler(new.on_kind, pattern=PickKind.pattern())],
        rf.CATEGORY: [
            CallbackQueryHandler(new.on_category, pattern=PickCategory.pattern()),
            CallbackQueryHandler(new.on_back_to_kind, pattern=pressed(FormButton,
                                                                      FormAction.BACK)),
        ],
        rf.DUP: [CallbackQueryHandler(new.on_dup, pattern=SameSubject.pattern())],
        rf.DESCRIBE: [
            CallbackQueryHandler(new.on_done, pattern=pressed(FormButton, FormAction.DONE)),
            MessageHandler(junk, new.on_unsupported),
            MessageHandler(files, new.on_describe_file),
            MessageHandler(typed, new.on_describe_text),
        ],
        rf.EXTRAS: [
            MessageHandler(filters.CONTACT, new.on_contact),
            MessageHandler(filters.LOCATION, new.on_extras_location),
            MessageHandler(filters.Text(labels(CONTINUE_LABEL)), new.on_continue),
            MessageHandler(other, new.extras_hint),
        ],
        rf.CONFIRM: [
            CallbackQueryHandler(new.on_confirm, pattern=ConfirmFiling.pattern()),
            CallbackQueryHandler(new.on_edit, pattern=pressed(FormButton, FormAction.EDIT)),
            CallbackQueryHandler(new.on_urgent, pattern=pressed(FormButton, FormAction.URGENT)),
            CallbackQueryHandler(new.on_not_urgent,
                                 pattern=pressed(FormButton, FormAction.NOT_URGENT)),
        ],
        rf.URGENT_REASON: [MessageHandler(typed, new.on_urgent_reason)],
        rf.RATE_COMMENT: [
            CallbackQueryHandler(track.rate_skip, pattern=pressed(RateButton, RateAction.SKIP)),
            MessageHandler(typed, track.rate_comment_text),
        ],
        rf.REOPEN_REASON: [MessageHandler(typed, track.reopen_reason)],
        ConversationHandler.TIMEOUT: [TypeHandler(Update, rf.on_timeout)],
    }


def build(settings: Settings) -> ConversationHandler[CustomContext]:
    menu = filters.Text([label for item in MenuItem for label in all_labels(item)])
    typed = filters.TEXT & ~filters.COMMAND & ~menu
    other = ~filters.COMMAND & ~menu & ~filters.StatusUpdate.ALL
    conversation: ConversationHandler[CustomContext] = ConversationHandler(
        name="resident",
        persistent=True,
        allow_reentry=True,
        conversation_timeout=settings.conversation_timeout_minutes * 60,
        entry_points=_entry_points(),
        states=_states(typed, other),
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=pressed(FormButton, FormAction.CANCEL)),
            CallbackQueryHandler(stale_in_form,
                                 pattern=r"^(" + "|".join(FORM_PREFIXES) + "):"),
            MessageHandler(other, form_hint),
        ],
    )
    return conversation


def handlers(settings: Settings) -> list[BaseHandler[Update, CustomContext, None]]:
    """The conversation, then what must still work after it ended (a late second «Send»)."""
    return [
        build(settings),  # type: ignore[list-item]
        CallbackQueryHandler(new.already_filed, pattern=ConfirmFiling.pattern()),
    ]
