"""Field visits: /visit (a mayor or house staff member files requests for residents who are
not on Telegram, one after another, each with a receipt), /visit end (summary and all
receipts as a PDF), /handover CODE (a one-time link for a request without a phone) and the
resident's side: /start c_CODE or /claim CODE, then the last four digits of the phone.

The filer's step is kept with the visit (`bot.services.visits`), so `route` (group
`ROUTE_GROUP`, before the feature handlers) sends a message to the visit only when the
visit's step reads messages; otherwise the update goes on to the other handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import CustomContext
from bot.domain import visits as steps
from bot.domain.forms import FormFile
from bot.domain.text import to_ascii_digits
from bot.domain.visits import HANDOVER_PREFIX, parse_time
from bot.i18n import Translator, translator
from bot.services import visits as svc
from bot.services.errors import Refused
from bot.ui import callbacks
from bot.ui import visits as ui
from bot.ui.buttons import (
    VisitAction,
    VisitButton,
    VisitCategory,
    VisitFile,
    VisitKind,
    VisitPlace,
)
from bot.ui.errors import refused_text
from bot.ui.menus import MenuItem, all_labels
from bot.ui.receipts import receipt_png, receipts_pdf
from handlers.resident_track import attachment_of

ROUTE_GROUP = -5
Reply = Callable[[Update, CustomContext], Awaitable[None]]


async def say(update: Update, context: CustomContext, text: str,
              markup: InlineKeyboardMarkup | None = None) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(chat.id, text, reply_markup=markup)


def _person(update: Update) -> tuple[int, int]:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return user.id, chat.id


def _tz(context: CustomContext) -> str:
    return context.deps.settings.timezone


def _receipt_tr(context: CustomContext) -> Translator:
    """Receipts are for residents: in the default language, whatever the filer reads."""
    return translator(context.deps.settings.default_locale)


# ---------------------------------------------------------------------------- the visit


async def show_state(update: Update, context: CustomContext, state: svc.State) -> None:
    """Ask what the visit's step needs next."""
    tr, step = context.tr, state.visit.step
    if step == steps.PLACE:
        await say(update, context, ui.place_text(tr), ui.place_keyboard(tr, state.options))
    elif step == steps.TITLE:
        await say(update, context, ui.title_text(tr, state))
    elif step == steps.WHEN:
        await say(update, context, ui.when_text(tr), ui.when_keyboard(tr))
    elif step == steps.READY:
        await say(update, context, ui.ready_text(tr, state, _tz(context)),
                  ui.ready_keyboard(tr))
    else:
        await ask_person_step(update, context, state)


async def ask_person_step(update: Update, context: CustomContext, state: svc.State) -> None:
    """Where a request for a person was left (after /visit, or a restart)."""
    tr, draft = context.tr, state.visit.draft
    prompts = {steps.NAME: (ui.name_text(tr), None),
               steps.PHONE: (ui.phone_text(tr), ui.phone_keyboard(tr)),
               steps.KIND: (ui.kind_text(tr), ui.kind_keyboard(tr)),
               steps.CATEGORY: (ui.category_text(tr),
                                ui.category_keyboard(tr, state.categories))}
    text, markup = prompts.get(state.visit.step, (ui.added_text(tr), ui.describe_keyboard(
        tr, draft.id) if draft is not None else None))
    await say(update, context, text, markup)


async def cmd_visit(update: Update, context: CustomContext) -> None:
    """/visit, /visit CODE (that neighbourhood) or /visit end."""
    person_id, chat_id = _person(update)
    args = context.args or []
    try:
        if args and args[0].lower() in ("end", "پایان"):
            await _end(update, context)
            return
        state = await svc.begin(context.deps, person_id, chat_id, context.roles,
                                args[0] if args else None)
    except Refused as exc:
        await say(update, context, refused_text(context.tr, exc))
        return
    await show_state(update, context, state)


async def _end(update: Update, context: CustomContext) -> None:
    summary = await svc.end(context.deps, _person(update)[0])
    await say(update, context, ui.summary_text(context.tr, summary))
    if summary.receipts:
        data = receipts_pdf(_receipt_tr(context), summary.receipts,
                            context.bot.username, _tz(context))
        chat = update.effective_chat
        assert chat is not None
        await context.bot.send_document(chat.id, InputFile(
            data, filename=f"receipts-visit-{summary.visit.id}.pdf"))


async def _filed(update: Update, context: CustomContext, receipt: svc.Receipt) -> None:
    tr = context.tr
    chat = update.effective_chat
    assert chat is not None
    await say(update, context, ui.filed_text(tr, receipt, _tz(context)))
    png = receipt_png(_receipt_tr(context), receipt,
                      context.bot.username, _tz(context))
    await context.bot.send_photo(chat.id, InputFile(png, filename=f"{receipt.ticket.code}.png"),
                                 caption=receipt.ticket.code,
                                 reply_markup=ui.ready_keyboard(tr))


# ---------------------------------------------------------------------------- buttons


async def _now(update: Update, context: CustomContext, item: object) -> None:
    await show_state(update, context, await svc.set_when(context.deps, _person(update)[0], None))


async def _new(update: Update, context: CustomContext, item: object) -> None:
    await svc.new_person(context.deps, _person(update)[0])
    await say(update, context, ui.name_text(context.tr))


async def _no_phone(update: Update, context: CustomContext, item: object) -> None:
    await svc.set_phone(context.deps, _person(update)[0], None)
    await say(update, context, ui.kind_text(context.tr), ui.kind_keyboard(context.tr))


async def _drop(update: Update, context: CustomContext, item: object) -> None:
    await show_state(update, context, await svc.drop_person(context.deps, _person(update)[0]))


async def _end_button(update: Update, context: CustomContext, item: object) -> None:
    await _end(update, context)


async def _place(update: Update, context: CustomContext, item: object) -> None:
    assert isinstance(item, VisitPlace)
    await show_state(update, context, await svc.pick_place(
        context.deps, _person(update)[0], context.roles, item.neighbourhood_id))


async def _kind(update: Update, context: CustomContext, item: object) -> None:
    assert isinstance(item, VisitKind)
    items = await svc.choose_kind(context.deps, _person(update)[0], item.kind)
    await say(update, context, ui.category_text(context.tr),
              ui.category_keyboard(context.tr, items))


async def _category(update: Update, context: CustomContext, item: object) -> None:
    assert isinstance(item, VisitCategory)
    category, house = await svc.choose_category(context.deps, _person(update)[0],
                                                item.category_id)
    await say(update, context, ui.describe_text(context.tr, category, house))


async def _file(update: Update, context: CustomContext, item: object) -> None:
    assert isinstance(item, VisitFile)
    role = "mayor" if context.has_role("mayor") else "staff"
    await _filed(update, context, await svc.file(context.deps, _person(update)[0],
                                                 item.draft_id, role))


ACTIONS: dict[object, Callable[[Update, CustomContext, object], Awaitable[None]]] = {
    VisitAction.NOW: _now, VisitAction.NEW: _new, VisitAction.NO_PHONE: _no_phone,
    VisitAction.DROP: _drop, VisitAction.END: _end_button,
}
BUTTONS: dict[object, Callable[[Update, CustomContext, object], Awaitable[None]]] = {
    VisitPlace: _place, VisitKind: _kind, VisitCategory: _category, VisitFile: _file,
}


async def on_button(update: Update, context: CustomContext) -> None:
    query = update.callback_query
    assert query is not None
    item = callbacks.unpack(query.data)
    handler = (ACTIONS.get(item.action) if isinstance(item, VisitButton)
               else BUTTONS.get(type(item)))
    if handler is None:
        await query.answer(context.tr._("This menu has expired."))
        return
    try:
        await handler(update, context, item)
    except Refused as exc:
        await query.answer(refused_text(context.tr, exc), show_alert=True)
        return
    await query.answer()
    await query.edit_message_reply_markup(None)


# ---------------------------------------------------------------------------- messages


async def _typed(update: Update, context: CustomContext, step: str, text: str) -> None:
    deps, person_id = context.deps, _person(update)[0]
    if step == steps.TITLE:
        await show_state(update, context, await svc.set_title(deps, person_id, text))
    elif step == steps.WHEN:
        held = parse_time(text, deps.clock.now(), _tz(context))
        if held is None:
            await say(update, context, ui.when_text(context.tr), ui.when_keyboard(context.tr))
            return
        await show_state(update, context, await svc.set_when(deps, person_id, held))
    elif step == steps.NAME:
        await svc.set_name(deps, person_id, text)
        await say(update, context, ui.phone_text(context.tr), ui.phone_keyboard(context.tr))
    elif step == steps.PHONE:
        await svc.set_phone(deps, person_id, text)
        await say(update, context, ui.kind_text(context.tr), ui.kind_keyboard(context.tr))
    else:
        draft = await svc.add_text(deps, person_id, text)
        await say(update, context, ui.added_text(context.tr),
                  ui.describe_keyboard(context.tr, draft.id))


async def _other(update: Update, context: CustomContext, state: svc.State) -> bool:
    """A file or a location while the visit is open; False when the step does not take it."""
    message = update.effective_message
    assert message is not None
    person_id, step = _person(update)[0], state.visit.step
    if message.location is not None and step in (steps.READY, steps.DESCRIBE):
        await svc.set_location(context.deps, person_id, message.location.latitude,
                               message.location.longitude)
        await say(update, context, context.tr._("📍 Location saved."))
        return True
    item = attachment_of(update)
    if item is None or step != steps.DESCRIBE:
        return False
    draft = await svc.add_file(context.deps, person_id, FormFile(
        kind=item.kind, file_id=item.file_id, file_unique_id=item.file_unique_id),
        item.caption)
    await say(update, context, ui.added_text(context.tr),
              ui.describe_keyboard(context.tr, draft.id))
    return True


async def route(update: Update, context: CustomContext) -> None:
    """A private message: the answer to a claim's question, or the next input of the
    sender's open visit; anything else goes on to the feature handlers."""
    message = update.effective_message
    if message is None or context.person is None:
        return
    text = (message.text or "").strip()
    if len(text) == 4 and to_ascii_digits(text).isdigit() and \
            await _claim_digits(update, context, text):
        raise ApplicationHandlerStop
    if not context.has_role(*svc.VISIT_ROLES):
        return
    state = await svc.current(context.deps, context.person.id)
    if state is None:
        return
    try:
        if text and state.visit.step in steps.TYPED_STEPS:
            await _typed(update, context, state.visit.step, text)
        elif text and state.visit.step in steps.BUTTON_STEPS:
            await say(update, context, context.tr._(
                "Please answer with the buttons above, or end the visit with /visit end."))
            await show_state(update, context, state)
        elif not await _other(update, context, state):
            return
    except Refused as exc:
        await say(update, context, refused_text(context.tr, exc))
    raise ApplicationHandlerStop


# ---------------------------------------------------------------------------- claiming


async def _claim_digits(update: Update, context: CustomContext, digits: str) -> bool:
    """Four digits after /start c_CODE: the claim's answer (False: no claim was asked)."""
    person_id = _person(update)[0]
    code = await svc.pending_claim(context.deps, person_id)
    if code is None:
        return False
    await _claim(update, context, code, digits)
    return True


async def _claim(update: Update, context: CustomContext, code: str, digits: str) -> None:
    try:
        claimed = await svc.claim(context.deps, _person(update)[0], code, digits)
    except svc.WrongDigits as exc:
        await say(update, context, ui.wrong_text(context.tr, exc))
        return
    except Refused as exc:
        await say(update, context, refused_text(context.tr, exc))
        return
    await say(update, context, ui.claimed_text(context.tr, claimed.ticket.code))


async def _ask_digits(update: Update, context: CustomContext, code: str) -> None:
    try:
        ticket = await svc.ask_claim(context.deps, _person(update)[0], code)
    except Refused as exc:
        await say(update, context, refused_text(context.tr, exc))
        return
    await say(update, context, ui.ask_digits_text(context.tr, ticket.code))


async def cmd_claim(update: Update, context: CustomContext) -> None:
    """/claim CODE [last four digits]."""
    args = context.args or []
    if not args:
        await say(update, context, context.tr._(
            "Send /claim and the code on your receipt, for example /claim ABC123."))
    elif len(args) >= 2:
        await _claim(update, context, args[0], args[1])
    else:
        await _ask_digits(update, context, args[0])


async def deep_claim(update: Update, context: CustomContext) -> None:
    """/start c_CODE: the QR code on a receipt."""
    await _ask_digits(update, context, (context.args or ["c_"])[0][2:])


async def deep_handover(update: Update, context: CustomContext) -> None:
    """/start h_TOKEN: the filer's one-time link."""
    token = (context.args or ["h_"])[0][len(HANDOVER_PREFIX):]
    try:
        claimed = await svc.claim_by_link(context.deps, _person(update)[0], token)
    except Refused as exc:
        await say(update, context, refused_text(context.tr, exc))
        return
    await say(update, context, ui.claimed_text(context.tr, claimed.ticket.code))


async def cmd_handover(update: Update, context: CustomContext) -> None:
    """/handover CODE: the filer's one-time link for the resident."""
    args = context.args or []
    if not args:
        await say(update, context, context.tr._("Send /handover and the request's code."))
        return
    try:
        made = await svc.handover(context.deps, _person(update)[0], args[0])
    except Refused as exc:
        await say(update, context, refused_text(context.tr, exc))
        return
    link = f"https://t.me/{context.bot.username}?start={HANDOVER_PREFIX}{made.token}"
    await say(update, context, ui.handover_text(context.tr, made.name, made.code, link))


MENU = filters.Text([label for item in MenuItem for label in all_labels(item)])
PRIVATE = filters.ChatType.PRIVATE

# Before the feature handlers (group ROUTE_GROUP): a claim's digits, a visit's input.
ROUTE_HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    MessageHandler(PRIVATE & ~filters.COMMAND & ~MENU & ~filters.StatusUpdate.ALL, route),
]

HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("visit", cmd_visit, filters=PRIVATE),
    CommandHandler("handover", cmd_handover, filters=PRIVATE),
    CommandHandler("claim", cmd_claim, filters=PRIVATE),
    CommandHandler("start", deep_claim, filters=filters.Regex(r"^/start c_")),
    CommandHandler("start", deep_handover, filters=filters.Regex(r"^/start h_")),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern("vis")),
]
