"""Filing a request: kind → category → description (+ files) → optional phone and location →
summary → confirm; and a follow-up message on an open request. Each step is one call of
`bot.services.resident_forms`, which keeps the form in our own table."""

from __future__ import annotations

from telegram import Update

from bot.context import CustomContext
from bot.domain.forms import FormFile, ResidentForm
from bot.domain.resident import Summary
from bot.domain.tickets import Kind
from bot.i18n import N_
from bot.services import resident_forms as forms
from bot.services.errors import Refused
from bot.ui.buttons import ConfirmFiling, MyTicket, PickCategory, PickKind, SameSubject
from bot.ui.due import due_moment, holiday_note
from bot.ui.errors import refused_text
from bot.ui.labels import kind_label, localized
from bot.ui.menus import main_menu
from bot.ui.notices import receipt_text
from bot.ui.resident import (
    category_keyboard,
    consent_markup,
    done_markup,
    extras_keyboard,
    same_subject_keyboard,
    summary,
)
from handlers import resident_form as rf
from handlers.resident_form import reply
from handlers.resident_place import ask_place
from handlers.resident_track import attachment_of
from handlers.start import consent_text

MIN_TEXT = 10
MAX_PART = 1000
MAX_TEXT = 3000
MAX_FILES = 10
EXPIRED = N_("This menu has expired.")


# ------------------------------------------------------------------ entry

async def _started(update: Update, context: CustomContext, started: forms.Started) -> object:
    context.person = started.person
    if started.neighbourhood is None:
        return await ask_place(update, context, context.tr._("First, your neighbourhood."))
    return await rf.ask_kind(update, context, started.neighbourhood)


async def _open_limit(update: Update, context: CustomContext, exc: forms.OpenLimit) -> object:
    tr = context.tr
    await reply(update, context, tr.ngettext(
        "You already have {n} open request. Please wait for an answer, or withdraw one "
        "in «📋 My requests», before sending a new one.",
        "You already have {n} open requests. Please wait for answers, or withdraw one "
        "in «📋 My requests», before sending a new one.", exc.limit).format(
            n=tr.digits(exc.limit)), main_menu(tr))
    return rf.END


async def new_entry(update: Update, context: CustomContext) -> object:
    """/new and «📝 New request»."""
    person = context.person
    if person is None:
        return rf.END
    if person.consent_at is None:
        await rf.end_form(update, context)
        await reply(update, context, consent_text(context), consent_markup(context.tr))
        return rf.END
    try:
        started = await forms.start_new(context.deps, person, rf.ids(update)[1])
    except forms.OpenLimit as exc:
        return await _open_limit(update, context, exc)
    return await _started(update, context, started)


async def consent_yes(update: Update, context: CustomContext) -> object:
    query = update.callback_query
    assert query is not None
    person_id, chat_id = rf.ids(update)
    try:
        started = await forms.agree_and_start(context.deps, person_id, chat_id)
    except forms.OpenLimit as exc:
        await query.answer()
        await query.edit_message_reply_markup(None)
        return await _open_limit(update, context, exc)
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await _started(update, context, started)


async def follow_entry(update: Update, context: CustomContext) -> object:
    """«✍️ Add a message» on one of the resident's open requests."""
    query = update.callback_query
    assert query is not None
    item = MyTicket.unpack(query.data)
    person_id, chat_id = rf.ids(update)
    try:
        form = await forms.start_follow(context.deps, person_id, chat_id,
                                        item.ticket_id if item else None)
    except Refused as exc:
        await rf.answer_refused(update, context, exc)
        return rf.END
    await query.answer()
    return await ask_describe(update, context, form)


# ------------------------------------------------------------------ kind and category

@rf.step
async def on_kind(update: Update, context: CustomContext, form: ResidentForm) -> object:
    query = update.callback_query
    assert query is not None
    item = PickKind.unpack(query.data)
    if item is None:
        await query.answer(context.tr._(EXPIRED))
        return None
    await query.answer()
    form, categories = await forms.choose_kind(context.deps, form, item.kind)
    tr = context.tr
    await query.edit_message_text(
        tr._("{kind}: what is it about? Choose the closest subject:").format(
            kind=kind_label(tr, item.kind)),
        reply_markup=category_keyboard(tr, categories))
    return rf.CATEGORY


@rf.step
async def on_back_to_kind(update: Update, context: CustomContext, form: ResidentForm) -> object:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    prompt = await forms.back_to_kind(context.deps, form)
    return await rf.ask_kind(update, context, prompt.neighbourhood)


@rf.step
async def on_category(update: Update, context: CustomContext, form: ResidentForm) -> object:
    query = update.callback_query
    assert query is not None
    tr = context.tr
    item = PickCategory.unpack(query.data)
    try:
        if item is None:
            raise Refused(EXPIRED)
        chosen = await forms.choose_category(context.deps, form, item.category_id)
    except Refused as exc:
        await rf.answer_refused(update, context, exc)
        return None
    await query.answer()
    await query.edit_message_text(tr._("Subject: {category}\n{house} will handle it.").format(
        category=localized(tr, chosen.category.name_fa, chosen.category.name_en),
        house=localized(tr, chosen.house.name_fa, chosen.house.name_en)))
    if chosen.same is not None:
        code = chosen.same.code
        await reply(update, context, tr._(
            "You already have an open request in this subject: {code}.\n"
            "Is this more about the same thing (add it to {code}), or a new request?").format(
                code=code), same_subject_keyboard(tr, chosen.same))
        return rf.DUP
    return await ask_describe(update, context, chosen.form)


@rf.step
async def on_dup(update: Update, context: CustomContext, form: ResidentForm) -> object:
    query = update.callback_query
    assert query is not None
    item = SameSubject.unpack(query.data)
    try:
        if item is None:
            raise Refused(EXPIRED)
        form = await forms.same_subject(context.deps, form, item.ticket_id)
    except Refused as exc:
        await rf.answer_refused(update, context, exc)
        return None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await ask_describe(update, context, form)


# ------------------------------------------------------------------ description and files

# What to describe depends on the kind: a need, a problem, an idea.
DESCRIBE = {
    Kind.NEED: N_("Please describe what is needed, where, since when and for whom "
                  "(at least {min} letters)."),
    Kind.COMPLAINT: N_("Please describe what the problem is, where and since when it has "
                       "happened (at least {min} letters)."),
    Kind.SUGGESTION: N_("Please describe your suggestion: what should be done, where, and "
                        "how it would help the neighbourhood (at least {min} letters)."),
}


async def ask_describe(update: Update, context: CustomContext, form: ResidentForm) -> object:
    tr = context.tr
    if form.mode == "follow":
        text = tr._("Write your message for request {code}. You can also send photos, voice "
                    "notes or files. Then press «✅ Done».").format(code=form.code or "")
    else:
        text = "\n".join([tr._(DESCRIBE[form.kind or Kind.NEED]).format(
                              min=tr.digits(MIN_TEXT)),
                          tr._("You can also send photos, voice notes or files, in several "
                               "messages. When finished, press «✅ Done».")])
    await reply(update, context, text, done_markup(tr))
    return rf.DESCRIBE


async def _ack(update: Update, context: CustomContext, form: ResidentForm) -> None:
    tr = context.tr
    text = tr._("Received ✅ ({letters} letters, {files} files). Send more, or press "
                "«✅ Done».").format(letters=tr.digits(form.text_length),
                                     files=tr.digits(len(form.files)))
    await reply(update, context, text, done_markup(tr))


@rf.step
async def on_describe_text(update: Update, context: CustomContext, form: ResidentForm
                           ) -> object:
    message = update.effective_message
    assert message is not None and message.text is not None
    tr = context.tr
    text = message.text.strip()
    if len(text) > MAX_PART:
        await message.reply_text(tr._(
            "This message is too long ({n} letters). One message can have at most {max} "
            "letters: please shorten it or send it in two parts. Nothing was lost; what you "
            "sent before is kept.").format(n=tr.digits(len(text)), max=tr.digits(MAX_PART)))
        return None
    if form.text_length + len(text) > MAX_TEXT:
        await message.reply_text(tr._(
            "The description is already long enough (at most {max} letters in all). Press "
            "«✅ Done» to continue.").format(max=tr.digits(MAX_TEXT)),
            reply_markup=done_markup(tr))
        return None
    form = await forms.add_text(context.deps, form, text)
    await _ack(update, context, form)
    return None


@rf.step
async def on_describe_file(update: Update, context: CustomContext, form: ResidentForm
                           ) -> object:
    message = update.effective_message
    assert message is not None
    tr = context.tr
    item = attachment_of(update)
    if item is None:
        return await _unsupported(update, context)
    if len(form.files) >= MAX_FILES:
        await message.reply_text(tr._("That is enough files ({max}). Press «✅ Done» to "
                                      "continue.").format(max=tr.digits(MAX_FILES)),
                                 reply_markup=done_markup(tr))
        return None
    caption = item.caption.strip()[:MAX_PART] if item.caption and item.caption.strip() \
        else None
    form = await forms.add_file(context.deps, form, FormFile(
        kind=item.kind, file_id=item.file_id, file_unique_id=item.file_unique_id,
        caption=item.caption), caption)
    await _ack(update, context, form)
    return None


async def _unsupported(update: Update, context: CustomContext) -> object:
    message = update.effective_message
    assert message is not None
    await message.reply_text(context.tr._(
        "I cannot use stickers, GIFs or this kind of message in a request. Please write in "
        "words, or send a photo, a voice note or a file."), reply_markup=done_markup(
            context.tr))
    return None


@rf.step
async def on_unsupported(update: Update, context: CustomContext, form: ResidentForm) -> object:
    return await _unsupported(update, context)


async def _follow_done(update: Update, context: CustomContext, form: ResidentForm) -> object:
    tr = context.tr
    try:
        ticket = await forms.add_follow_up(context.deps, form, form.body.strip() or
                                           tr._("(attachment)"))
    except Refused as exc:
        await reply(update, context, refused_text(tr, exc), main_menu(tr))
        return rf.END
    await reply(update, context, tr._("✅ Added to request {code}. The house will see "
                                      "it.").format(code=ticket.code), main_menu(tr))
    return rf.END


@rf.step
async def on_done(update: Update, context: CustomContext, form: ResidentForm) -> object:
    query = update.callback_query
    assert query is not None
    tr = context.tr
    body = form.body.strip()
    follow = form.mode == "follow"
    if follow and not body and not form.files:
        await query.answer(tr._("Please write something or send a file first."),
                           show_alert=True)
        return None
    spoken = any(f.kind in ("voice", "audio", "video") for f in form.files)
    if not follow and len(body) < MIN_TEXT and spoken:
        # A voice note (or video) may stand as the description: staff listen with «📎».
        form = await forms.add_text(context.deps, form, tr._("🎤 Described in a voice note."))
    elif not follow and len(body) < MIN_TEXT:
        await query.answer()
        await reply(update, context, tr._(
            "Please write a little more (at least {min} letters) so the house understands "
            "what you need. You have written {n}.").format(min=tr.digits(MIN_TEXT),
                                                         n=tr.digits(len(body))))
        return None
    await query.answer()
    await query.edit_message_reply_markup(None)
    if follow:
        return await _follow_done(update, context, form)
    return await ask_extras(update, context, await forms.to_extras(context.deps, form))


# ------------------------------------------------------------------ phone and location

async def ask_extras(update: Update, context: CustomContext, form: ResidentForm) -> object:
    tr = context.tr
    await reply(update, context, tr._(
        "Optional:\n"
        "📞 If you share your phone number, only the staff handling this request see it, "
        "to call you about it. Pressing the button means you agree to that.\n"
        "📍 You can send the location of the problem.\n"
        "Or press «➡️ Continue»."), extras_keyboard(tr, form))
    return rf.EXTRAS


@rf.step
async def on_contact(update: Update, context: CustomContext, form: ResidentForm) -> object:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.contact is not None and user is not None
    tr = context.tr
    if message.contact.user_id != user.id:
        await message.reply_text(tr._("Please share your own number with the «📞 Share my "
                                      "phone number» button below."))
        return None
    form = await forms.set_phone(context.deps, form, message.contact.phone_number)
    await message.reply_text(tr._("📞 Thank you, your number is added to this request."))
    return await ask_extras(update, context, form)


@rf.step
async def on_extras_location(update: Update, context: CustomContext, form: ResidentForm
                             ) -> object:
    message = update.effective_message
    assert message is not None and message.location is not None
    form = await forms.set_location(context.deps, form, message.location.latitude,
                                    message.location.longitude)
    await message.reply_text(context.tr._("📍 Location added to this request."))
    return await ask_extras(update, context, form)


@rf.step
async def on_continue(update: Update, context: CustomContext, form: ResidentForm) -> object:
    try:
        found = await forms.to_summary(context.deps, form)
    except Refused:
        await rf.end_form(update, context)
        await rf.send_timeout(update, context)
        return rf.END
    return await _show_summary(update, context, found)


@rf.step
async def extras_hint(update: Update, context: CustomContext, form: ResidentForm) -> object:
    message = update.effective_message
    assert message is not None
    await message.reply_text(context.tr._("Please use the buttons below: share your phone "
                                          "number, send a location, or «➡️ Continue»."))
    return None


# ------------------------------------------------------------------ summary and confirm

def _filed_text(context: CustomContext, filed: forms.Filed) -> str:
    """The receipt: the tracking code is the point, so it stands on a line of its own."""
    tr = context.tr
    house = (localized(tr, filed.house.name_fa, filed.house.name_en) if filed.house
             else tr._("The house"))
    return receipt_text(tr, filed.ticket.code, house,
                        due_moment(tr, filed.ticket, context.deps.settings.timezone),
                        holiday_note(tr, filed.ticket, context.deps.calendar))


@rf.step
async def on_confirm(update: Update, context: CustomContext, form: ResidentForm) -> object:
    query = update.callback_query
    assert query is not None
    tr = context.tr
    item = ConfirmFiling.unpack(query.data)
    try:
        filed = await forms.confirm(context.deps, form, item.form_id if item else "")
    except Refused as exc:
        if exc.message == EXPIRED:
            await rf.answer_refused(update, context, exc)
            return None
        await query.answer()
        await reply(update, context, refused_text(tr, exc), main_menu(tr))
        return rf.END
    # The code first: the receipt is also queued in the outbox with the ticket, and this
    # reply marks it delivered; the button clean-up may fail without losing anything.
    chat_id = rf.ids(update)[1]
    sent = await context.bot.send_message(
        chat_id, _filed_text(context, filed), reply_markup=main_menu(tr))
    await forms.receipt_shown(context.deps, filed.ticket.id, sent.message_id)
    await query.answer()
    await query.edit_message_reply_markup(None)
    return rf.END


async def already_filed(update: Update, context: CustomContext) -> None:
    """A second press on «Send» after the form ended: same ticket, never a second one."""
    query = update.callback_query
    assert query is not None
    item = ConfirmFiling.unpack(query.data)
    try:
        ticket = await forms.already_filed(context.deps, rf.ids(update)[0],
                                           item.form_id if item else "")
    except Refused as exc:
        await rf.answer_refused(update, context, exc)
        return
    await query.answer(context.tr._("Already sent: {code}").format(code=ticket.code))


URGENT_MIN, URGENT_MAX = 3, 300


@rf.step
async def on_urgent(update: Update, context: CustomContext, form: ResidentForm) -> object:
    """«🚨 It is urgent»: an urgent request gets a shorter window, so a reason is asked."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    await forms.ask_urgent(context.deps, form)
    hours = context.deps.settings.urgent_window_hours
    await reply(update, context, context.tr._(
        "Why is it urgent? In a few words (for example: someone's health or safety is at "
        "risk). Urgent requests are answered within {hours} hours.").format(
            hours=context.tr.digits(hours)))
    return rf.URGENT_REASON


@rf.step
async def on_urgent_reason(update: Update, context: CustomContext, form: ResidentForm
                           ) -> object:
    message = update.effective_message
    assert message is not None and message.text is not None
    tr = context.tr
    reason = message.text.strip()
    if not URGENT_MIN <= len(reason) <= URGENT_MAX:
        await message.reply_text(tr._("Please write between {a} and {b} characters.").format(
            a=tr.digits(URGENT_MIN), b=tr.digits(URGENT_MAX)))
        return None
    return await _show_summary(update, context, await forms.set_urgent(context.deps, form,
                                                                       reason))


@rf.step
async def on_not_urgent(update: Update, context: CustomContext, form: ResidentForm) -> object:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await _show_summary(update, context, await forms.set_urgent(context.deps, form,
                                                                       None))


async def _show_summary(update: Update, context: CustomContext, found: Summary) -> object:
    text, markup = summary(context.tr, found)
    await reply(update, context, text, markup)
    return rf.CONFIRM


@rf.step
async def on_edit(update: Update, context: CustomContext, form: ResidentForm) -> object:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await ask_describe(update, context, await forms.edit_description(context.deps, form))

