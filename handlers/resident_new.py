"""Filing a request: kind → category → description (+ files) → optional phone and location →
summary → confirm. Also builds the one persistent resident conversation (place, follow-ups,
rating comment, reopen reason), so every step survives a restart."""

from __future__ import annotations

from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import SUPPORTED_LOCALES, Settings
from bot.context import CustomContext
from bot.domain.tickets import Kind
from bot.i18n import N_, Translator, translator
from bot.services import resident as service
from bot.services.tickets import AttachmentIn, Draft, file_ticket
from bot.ui import callbacks
from bot.ui.jalali import format_datetime
from bot.ui.labels import KIND, kind_label, localized
from bot.ui.menus import MenuItem, all_labels, main_menu
from handlers import resident_form as rf
from handlers import resident_place as place
from handlers import resident_track as track
from handlers.resident_track import attachment_of
from handlers.start import consent_markup, consent_text
from storage import people, places
from storage import tickets as repo

F = "new"
MIN_TEXT = 10
MAX_PART = 1000
MAX_TEXT = 3000
MAX_FILES = 10
PHONE_LABEL = N_("📞 Share my phone number")
LOCATION_LABEL = N_("📍 Send the location")
CONTINUE_LABEL = N_("➡️ Continue")


def _labels(text: str) -> list[str]:
    return sorted({translator(loc)._(text) for loc in SUPPORTED_LOCALES})


def _cancel_button(tr: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(tr._("✖️ Cancel"), callback_data=callbacks.build(F, "cancel"))


async def _reply(update: Update, context: CustomContext, text: str,
                 markup: Any = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


# ------------------------------------------------------------------ entry

async def _open_count(context: CustomContext, resident_id: int) -> int:
    async with context.deps.db.read() as conn:
        return await repo.count_by_resident(conn, resident_id, open_only=True)


async def _begin(update: Update, context: CustomContext) -> object:
    tr = context.tr
    person = context.person
    assert person is not None
    limit = context.deps.settings.max_open_tickets
    if await _open_count(context, person.id) >= limit:
        rf.clear(context)
        await _reply(update, context, tr.ngettext(
            "You already have {n} open request. Please wait for an answer, or withdraw one "
            "in «📋 My requests», before sending a new one.",
            "You already have {n} open requests. Please wait for answers, or withdraw one "
            "in «📋 My requests», before sending a new one.", limit).format(
                n=tr.digits(limit)), main_menu(tr))
        return rf.END
    rf.new_form(context, "new")
    if person.neighbourhood_id is None:
        return await place.ask_place(update, context, tr._("First, your neighbourhood."))
    return await ask_kind(update, context)


async def new_entry(update: Update, context: CustomContext) -> object:
    """/new and «📝 New request»."""
    if context.person is None:
        return rf.END
    if context.person.consent_at is None:
        rf.clear(context)
        await _reply(update, context, consent_text(context), consent_markup(context.tr))
        return rf.END
    return await _begin(update, context)


async def consent_yes(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    deps = context.deps
    async with deps.db.tx() as conn:
        await people.set_consent(conn, query.from_user.id, deps.clock.now())
        context.person = await people.get(conn, query.from_user.id)
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await _begin(update, context)


async def follow_entry(update: Update, context: CustomContext) -> object:
    """«✍️ Add a message» on one of the resident's open requests."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    data = callbacks.parse(query.data)
    tid = data.int_arg(0) if data else None
    async with context.deps.db.read() as conn:
        ticket = await service.owned_ticket(conn, tid, query.from_user.id) if tid else None
    if ticket is None or not ticket.is_open:
        await query.answer(context.tr._("This menu has expired."))
        return rf.END
    await query.answer()
    rf.new_form(context, "follow", ticket_id=ticket.id, code=ticket.code)
    return await ask_describe(update, context)


# ------------------------------------------------------------------ kind and category

async def ask_kind(update: Update, context: CustomContext) -> object:
    tr = context.tr
    rows = [[InlineKeyboardButton(tr._(label), callback_data=callbacks.build(F, "kind", k.value))]
            for k, label in KIND.items()]
    rows.append([_cancel_button(tr)])
    name = ""
    if context.person is not None and context.person.neighbourhood_id is not None:
        async with context.deps.db.read() as conn:
            n = await places.neighbourhood(conn, context.person.neighbourhood_id)
        name = place.neighbourhood_name(tr, n) if n else ""
    await _reply(update, context, tr._(
        "📍 Neighbourhood: {name} (to change it: /neighbourhood)\n\n"
        "What would you like to send?").format(name=name), InlineKeyboardMarkup(rows))
    return rf.KIND


async def _category_keyboard(context: CustomContext) -> InlineKeyboardMarkup:
    tr = context.tr
    async with context.deps.db.read() as conn:
        items = await places.categories(conn)
    buttons = [InlineKeyboardButton(localized(tr, c.name_fa, c.name_en),
                                    callback_data=callbacks.build(F, "cat", c.id)) for c in items]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(tr._("🔙 Back"), callback_data=callbacks.build(F, "back")),
                 _cancel_button(tr)])
    return InlineKeyboardMarkup(rows)


@rf.step
async def on_kind(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None
    data = callbacks.parse(query.data)
    value = data.args[0] if data and data.args else ""
    if value not in {k.value for k in Kind}:
        await query.answer(context.tr._("This menu has expired."))
        return None
    await query.answer()
    rf.form_of(context)["kind"] = value
    tr = context.tr
    await query.edit_message_text(
        tr._("{kind}: what is it about? Choose the closest subject:").format(
            kind=kind_label(tr, Kind(value))),
        reply_markup=await _category_keyboard(context))
    return rf.CATEGORY


@rf.step
async def on_back_to_kind(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await ask_kind(update, context)


@rf.step
async def on_category(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    tr = context.tr
    data = callbacks.parse(query.data)
    cid = data.int_arg(0) if data else None
    person = context.person
    assert person is not None
    async with context.deps.db.read() as conn:
        category = await places.category(conn, cid) if cid is not None else None
        if category is None or person.neighbourhood_id is None:
            await query.answer(tr._("This menu has expired."))
            return None
        house = await places.house(conn, await places.house_for(conn, person.neighbourhood_id,
                                                                category.id))
        same = await repo.open_by_resident_category(conn, person.id, category.id)
    assert house is not None
    await query.answer()
    form = rf.form_of(context)
    form["category_id"] = category.id
    await query.edit_message_text(tr._("Subject: {category}\n{house} will handle it.").format(
        category=localized(tr, category.name_fa, category.name_en),
        house=localized(tr, house.name_fa, house.name_en)))
    if same:
        other = same[0]
        await _reply(update, context, tr._(
            "You already have an open request in this subject: {code}.\n"
            "Is this more about the same thing (add it to {code}), or a new request?").format(
                code=other.code), InlineKeyboardMarkup([
                    [InlineKeyboardButton(tr._("➕ Add to {code}").format(code=other.code),
                                          callback_data=callbacks.build(F, "dup", other.id))],
                    [InlineKeyboardButton(tr._("🆕 A new request"),
                                          callback_data=callbacks.build(F, "dup", 0))],
                    [_cancel_button(tr)]]))
        return rf.DUP
    return await ask_describe(update, context)


@rf.step
async def on_dup(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    data = callbacks.parse(query.data)
    tid = data.int_arg(0) if data else None
    form = rf.form_of(context)
    if tid:
        async with context.deps.db.read() as conn:
            ticket = await service.owned_ticket(conn, tid, query.from_user.id)
        if ticket is None or not ticket.is_open:
            await query.answer(context.tr._("This menu has expired."))
            return None
        form.update(mode="follow", ticket_id=ticket.id, code=ticket.code)
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await ask_describe(update, context)


# ------------------------------------------------------------------ description and files

def _done_markup(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(tr._("✅ Done"), callback_data=callbacks.build(F, "done")),
        _cancel_button(tr)]])


async def ask_describe(update: Update, context: CustomContext) -> object:
    tr = context.tr
    form = rf.form_of(context)
    if form.get("mode") == "follow":
        text = tr._("Write your message for request {code}. You can also send photos, voice "
                    "notes or files. Then press «✅ Done».").format(code=form.get("code", ""))
    else:
        text = tr._("Describe it in your own words: what is needed, where, since when, for "
                    "whom (at least {min} letters).\nYou can also send photos, voice notes or "
                    "files, in several messages. When finished, press «✅ Done».").format(
                        min=tr.digits(MIN_TEXT))
    await _reply(update, context, text, _done_markup(tr))
    return rf.DESCRIBE


def _text_length(form: rf.Form) -> int:
    return sum(len(part) for part in form["text"])


async def _ack(update: Update, context: CustomContext) -> None:
    tr = context.tr
    form = rf.form_of(context)
    files = len(form["files"])
    text = tr._("Received ✅ ({letters} letters, {files} files). Send more, or press "
                "«✅ Done».").format(letters=tr.digits(_text_length(form)),
                                     files=tr.digits(files))
    await _reply(update, context, text, _done_markup(tr))


@rf.step
async def on_describe_text(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    assert message is not None and message.text is not None
    tr = context.tr
    text = message.text.strip()
    form = rf.form_of(context)
    if len(text) > MAX_PART:
        await message.reply_text(tr._(
            "This message is too long ({n} letters). One message can have at most {max} "
            "letters: please shorten it or send it in two parts. Nothing was lost; what you "
            "sent before is kept.").format(n=tr.digits(len(text)), max=tr.digits(MAX_PART)))
        return None
    if _text_length(form) + len(text) > MAX_TEXT:
        await message.reply_text(tr._(
            "The description is already long enough (at most {max} letters in all). Press "
            "«✅ Done» to continue.").format(max=tr.digits(MAX_TEXT)),
            reply_markup=_done_markup(tr))
        return None
    form["text"].append(text)
    await _ack(update, context)
    return None


@rf.step
async def on_describe_file(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    assert message is not None
    tr = context.tr
    form = rf.form_of(context)
    item = attachment_of(update)
    if item is None:
        return await on_unsupported(update, context)
    if len(form["files"]) >= MAX_FILES:
        await message.reply_text(tr._("That is enough files ({max}). Press «✅ Done» to "
                                      "continue.").format(max=tr.digits(MAX_FILES)),
                                 reply_markup=_done_markup(tr))
        return None
    form["files"].append({"kind": item.kind, "file_id": item.file_id,
                          "file_unique_id": item.file_unique_id, "caption": item.caption})
    if item.caption and item.caption.strip():
        form["text"].append(item.caption.strip()[:MAX_PART])
    await _ack(update, context)
    return None


@rf.step
async def on_unsupported(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    assert message is not None
    await message.reply_text(context.tr._(
        "I cannot use stickers, GIFs or this kind of message in a request. Please write in "
        "words, or send a photo, a voice note or a file."), reply_markup=_done_markup(
            context.tr))
    return None


def _files(form: rf.Form) -> list[AttachmentIn]:
    return [AttachmentIn(f["kind"], f["file_id"], f.get("file_unique_id"), f.get("caption"))
            for f in form["files"]]


@rf.step
async def on_done(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    tr = context.tr
    form = rf.form_of(context)
    body = "\n".join(form["text"]).strip()
    follow = form.get("mode") == "follow"
    if follow and not body and not form["files"]:
        await query.answer(tr._("Please write something or send a file first."),
                           show_alert=True)
        return None
    if not follow and len(body) < MIN_TEXT:
        await query.answer()
        await _reply(update, context, tr._(
            "Please write a little more (at least {min} letters) so the house understands "
            "what you need. You have written {n}.").format(min=tr.digits(MIN_TEXT),
                                                         n=tr.digits(len(body))))
        return None
    await query.answer()
    await query.edit_message_reply_markup(None)
    if follow:
        deps = context.deps
        try:
            async with deps.db.tx() as conn:
                ticket = await service.owned_ticket(conn, int(form["ticket_id"]),
                                                    query.from_user.id)
                if ticket is None:
                    raise service.ResidentError("missing")
                ticket = await service.add_resident_message(
                    conn, deps, ticket, query.from_user.id, body or tr._("(attachment)"),
                    _files(form))
        except service.ResidentError:
            rf.clear(context)
            await _reply(update, context, tr._("This request is closed, so I could not add "
                                               "your message. Please send a new request."),
                         main_menu(tr))
            return rf.END
        rf.clear(context)
        await _reply(update, context, tr._("✅ Added to request {code}. The house will see "
                                           "it.").format(code=ticket.code), main_menu(tr))
        return rf.END
    return await ask_extras(update, context)


# ------------------------------------------------------------------ phone and location

async def ask_extras(update: Update, context: CustomContext) -> object:
    tr = context.tr
    form = rf.form_of(context)
    rows = []
    if not form.get("phone"):
        rows.append([KeyboardButton(tr._(PHONE_LABEL), request_contact=True)])
    if form.get("lat") is None:
        rows.append([KeyboardButton(tr._(LOCATION_LABEL), request_location=True)])
    rows.append([KeyboardButton(tr._(CONTINUE_LABEL))])
    await _reply(update, context, tr._(
        "Optional:\n"
        "📞 If you share your phone number, only the staff handling this request see it, "
        "to call you about it. Pressing the button means you agree to that.\n"
        "📍 You can send the location of the problem.\n"
        "Or press «➡️ Continue»."), ReplyKeyboardMarkup(rows, resize_keyboard=True,
                                                        one_time_keyboard=True))
    return rf.EXTRAS


@rf.step
async def on_contact(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    tr = context.tr
    if message.contact.user_id != user.id:
        await message.reply_text(tr._("Please share your own number with the «📞 Share my "
                                      "phone number» button below."))
        return None
    rf.form_of(context)["phone"] = message.contact.phone_number
    await message.reply_text(tr._("📞 Thank you, your number is added to this request."))
    return await ask_extras(update, context)


@rf.step
async def on_extras_location(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    assert message is not None and message.location is not None
    form = rf.form_of(context)
    form["lat"], form["lon"] = message.location.latitude, message.location.longitude
    await message.reply_text(context.tr._("📍 Location added to this request."))
    return await ask_extras(update, context)


@rf.step
async def on_continue(update: Update, context: CustomContext) -> object:
    return await show_summary(update, context)


@rf.step
async def extras_hint(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    assert message is not None
    await message.reply_text(context.tr._("Please use the buttons below: share your phone "
                                          "number, send a location, or «➡️ Continue»."))
    return None


# ------------------------------------------------------------------ summary and confirm

async def show_summary(update: Update, context: CustomContext) -> object:
    tr = context.tr
    form = rf.form_of(context)
    person = context.person
    assert person is not None and person.neighbourhood_id is not None
    async with context.deps.db.read() as conn:
        n = await places.neighbourhood(conn, person.neighbourhood_id)
        category = await places.category(conn, int(form["category_id"]))
        house = await places.house(conn, await places.house_for(
            conn, person.neighbourhood_id, int(form["category_id"])))
    assert n is not None and category is not None and house is not None
    lines = [
        tr._("Please check your request:"),
        tr._("📍 Neighbourhood: {name}").format(name=place.neighbourhood_name(tr, n)),
        tr._("Type: {kind} · {category}").format(
            kind=kind_label(tr, Kind(form["kind"])),
            category=localized(tr, category.name_fa, category.name_en)),
        tr._("House: {house}").format(house=localized(tr, house.name_fa, house.name_en)),
        tr._("Description: {text}").format(text="\n".join(form["text"])),
    ]
    if form["files"]:
        lines.append(tr.ngettext("{n} file attached", "{n} files attached",
                                 len(form["files"])).format(n=tr.digits(len(form["files"]))))
    if form.get("phone"):
        lines.append(tr._("📞 Phone: {phone}").format(phone=form["phone"]))
    if form.get("lat") is not None:
        lines.append(tr._("📍 Location attached"))
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton(tr._("✅ Send"), callback_data=callbacks.build(F, "ok", form["id"]))],
        [InlineKeyboardButton(tr._("✏️ Edit the description"),
                              callback_data=callbacks.build(F, "edit")), _cancel_button(tr)],
    ])
    await _reply(update, context, "\n".join(lines), markup)
    return rf.CONFIRM


def _filed_text(context: CustomContext, code: str, due: Any) -> str:
    tr = context.tr
    return tr._("✅ Your request was sent.\nTracking code: {code}\nThe house will answer by "
                "{due}. I will message you at every change. To see it later: «📋 My "
                "requests» or /status {code}").format(
        code=code, due=format_datetime(due, tr.locale, context.deps.settings.timezone))


@rf.step
async def on_confirm(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    tr = context.tr
    form = rf.form_of(context)
    data = callbacks.parse(query.data)
    if not data or not data.args or data.args[0] != form.get("id"):
        await query.answer(tr._("This menu has expired."))
        return None
    person = context.person
    assert person is not None and person.neighbourhood_id is not None
    deps = context.deps
    async with deps.db.read() as conn:
        already = await repo.filed_by_key(conn, form["id"])
    if already is None and await _open_count(context, person.id) >= \
            deps.settings.max_open_tickets:
        await query.answer()
        rf.clear(context)
        await _reply(update, context, tr._("You have too many open requests to send another "
                                           "one now. Please wait for answers."), main_menu(tr))
        return rf.END
    draft = Draft(resident_id=person.id, neighbourhood_id=person.neighbourhood_id,
                  kind=Kind(form["kind"]), category_id=int(form["category_id"]),
                  text="\n".join(form["text"]), phone=form.get("phone"), lat=form.get("lat"),
                  lon=form.get("lon"), attachments=_files(form))
    ticket, _ = await file_ticket(deps, draft, idem_key=form["id"])
    await query.answer()
    await query.edit_message_reply_markup(None)
    rf.clear(context)
    await _reply(update, context, _filed_text(context, ticket.code, ticket.due_at),
                 main_menu(tr))
    return rf.END


async def already_filed(update: Update, context: CustomContext) -> None:
    """A second press on «Send» after the form ended: same ticket, never a second one."""
    query = update.callback_query
    assert query is not None
    data = callbacks.parse(query.data)
    key = data.args[0] if data and data.args else ""
    async with context.deps.db.read() as conn:
        ticket = await repo.filed_by_key(conn, key) if key else None
    if ticket is None or context.person is None or ticket.resident_id != context.person.id:
        await query.answer(context.tr._("This menu has expired."))
        return
    await query.answer(context.tr._("Already sent: {code}").format(code=ticket.code))


@rf.step
async def on_edit(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    form = rf.form_of(context)
    form["text"], form["files"] = [], []
    return await ask_describe(update, context)


# ------------------------------------------------------------------ leaving and bad input

async def cancel(update: Update, context: CustomContext) -> object:
    rf.clear(context)
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_reply_markup(None)
    await _reply(update, context, context.tr._("Stopped. Nothing was sent. Main menu:"),
                 main_menu(context.tr))
    return rf.END


@rf.step
async def stale_in_form(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None
    await query.answer(context.tr._("This button is from an earlier step. Please use the "
                                    "latest message, or /cancel."))
    return None


@rf.step
async def form_hint(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    assert message is not None
    await message.reply_text(context.tr._(
        "Please answer with the buttons of the last message to continue, or send /cancel "
        "to stop."))
    return None


def _text(labels: list[str]) -> filters.BaseFilter:
    return filters.Text(labels)


def build(settings: Settings) -> ConversationHandler[CustomContext]:
    menu = filters.Text([label for item in MenuItem for label in all_labels(item)])
    typed = filters.TEXT & ~filters.COMMAND & ~menu
    cancel_words = _text(_labels(place.CANCEL_LABEL))
    junk = filters.Sticker.ALL | filters.ANIMATION | filters.POLL | filters.Dice.ALL | \
        filters.VIDEO_NOTE
    files = filters.PHOTO | filters.VOICE | filters.VIDEO | filters.AUDIO | \
        filters.Document.ALL
    return ConversationHandler(
        name="resident",
        persistent=True,
        allow_reentry=True,
        conversation_timeout=settings.conversation_timeout_minutes * 60,
        entry_points=[
            CommandHandler("start", place.deep_link, filters=filters.Regex(r"^/start n_")),
            CommandHandler("new", new_entry),
            MessageHandler(_text(all_labels(MenuItem.NEW)), new_entry),
            CallbackQueryHandler(consent_yes, pattern=callbacks.pattern("consent", "yes")),
            CommandHandler("neighbourhood", place.place_entry),
            MessageHandler(_text(all_labels(MenuItem.NEIGHBOURHOOD)), place.place_entry),
            CallbackQueryHandler(follow_entry, pattern=callbacks.pattern(track.F, "follow")),
            CallbackQueryHandler(track.rate_entry, pattern=callbacks.pattern("rate", "s")),
            CallbackQueryHandler(track.reopen_entry, pattern=callbacks.pattern("rate", "bad")),
        ],
        states={
            rf.PLACE: [
                CallbackQueryHandler(place.on_button, pattern=callbacks.pattern(place.F)),
                MessageHandler(filters.LOCATION, place.on_location),
                MessageHandler(cancel_words, cancel),
                MessageHandler(typed, place.on_text),
            ],
            rf.KIND: [CallbackQueryHandler(on_kind, pattern=callbacks.pattern(F, "kind"))],
            rf.CATEGORY: [
                CallbackQueryHandler(on_category, pattern=callbacks.pattern(F, "cat")),
                CallbackQueryHandler(on_back_to_kind, pattern=callbacks.pattern(F, "back")),
            ],
            rf.DUP: [CallbackQueryHandler(on_dup, pattern=callbacks.pattern(F, "dup"))],
            rf.DESCRIBE: [
                CallbackQueryHandler(on_done, pattern=callbacks.pattern(F, "done")),
                MessageHandler(junk, on_unsupported),
                MessageHandler(files, on_describe_file),
                MessageHandler(typed, on_describe_text),
            ],
            rf.EXTRAS: [
                MessageHandler(filters.CONTACT, on_contact),
                MessageHandler(filters.LOCATION, on_extras_location),
                MessageHandler(_text(_labels(CONTINUE_LABEL)), on_continue),
                MessageHandler(~filters.COMMAND & ~menu & ~filters.StatusUpdate.ALL,
                               extras_hint),
            ],
            rf.CONFIRM: [
                CallbackQueryHandler(on_confirm, pattern=callbacks.pattern(F, "ok")),
                CallbackQueryHandler(on_edit, pattern=callbacks.pattern(F, "edit")),
            ],
            rf.RATE_COMMENT: [
                CallbackQueryHandler(track.rate_skip, pattern=callbacks.pattern("rate", "skip")),
                MessageHandler(typed, track.rate_comment_text),
            ],
            rf.REOPEN_REASON: [MessageHandler(typed, track.reopen_reason)],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, rf.on_timeout)],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=callbacks.pattern(F, "cancel")),
            CallbackQueryHandler(stale_in_form,
                                 pattern=r"^(new|place|rate|consent):"),
            MessageHandler(~filters.COMMAND & ~menu & ~filters.StatusUpdate.ALL, form_hint),
        ],
    )


def handlers(settings: Settings) -> list[BaseHandler[Update, CustomContext, None]]:
    """The conversation, then what must still work after it ended (a late second «Send»)."""
    return [
        build(settings),  # type: ignore[list-item]
        CallbackQueryHandler(already_filed, pattern=callbacks.pattern(F, "ok")),
    ]
