"""The resident's screens: keyboards of the form and the neighbourhood picker, the list of
their requests and one request's view. Every inline button is a typed class of `buttons`."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot.config import SUPPORTED_LOCALES
from bot.domain.forms import ResidentForm
from bot.domain.models import Category, House, Neighbourhood, Ticket, TicketEvent
from bot.domain.resident import Detail, Late, MyPage, Summary
from bot.domain.tickets import Action
from bot.domain.workcal import WorkCalendar
from bot.i18n import N_, Translator, translator
from bot.ui.buttons import (
    City,
    ConfirmFiling,
    Consent,
    ConsentDecline,
    ForgetAction,
    ForgetMe,
    FormAction,
    FormButton,
    MyAction,
    MyList,
    MyTicket,
    PickCategory,
    PickKind,
    PickNeighbourhood,
    Province,
    Provinces,
    RateAction,
    RateButton,
    SameSubject,
    SetLanguage,
)
from bot.ui.callbacks import CallbackData
from bot.ui.due import holiday_note
from bot.ui.jalali import format_datetime, format_due
from bot.ui.labels import KIND, kind_label, localized, status_label
from bot.ui.notices import rating_keyboard

PLACE_PAGE = 8
PHONE_LABEL = N_("📞 Share my phone number")
LOCATION_LABEL = N_("📍 Send the location")
CONTINUE_LABEL = N_("➡️ Continue")
MY_LOCATION_LABEL = N_("📍 Send my location")
CANCEL_LABEL = N_("✖️ Cancel")
LANGUAGE_NAMES = {"fa": "فارسی", "en": "English"}

EVENT_LABELS: dict[str, str] = {
    Action.FILE: N_("Request sent"),
    Action.TAKE: N_("A staff member is working on it"),
    Action.REPLY: N_("Answer"),
    Action.ASK: N_("Question for you"),
    Action.RESIDENT_MESSAGE: N_("Your message"),
    Action.TRANSFER: N_("Sent to another house"),
    Action.ROUTE: N_("Sent to the right house"),
    Action.CLOSE: N_("Closed"),
    Action.WITHDRAW: N_("Withdrawn by you"),
    Action.REOPEN: N_("Reopened: not resolved"),
    Action.RATE: N_("Your rating"),
    Action.SLA: N_("Reminder to the house"),
    "claim": N_("Linked to your Telegram account"),
    Action.URGENCY: N_("Urgency changed by the neighbourhood mayor"),
}


# The SLA events a resident sees (public ones), by `details["sla"]`.
SLA_LABELS: dict[str, str] = {
    "breach": N_("Deadline missed: reported to the neighbourhood mayor and the house "
                 "supervisor"),
    "escalate2": N_("Reported again, to those in charge of the programme"),
}


def labels(text: str) -> list[str]:
    """A label in every language (a keyboard from before a language switch still works)."""
    return sorted({translator(loc)._(text) for loc in SUPPORTED_LOCALES})


def _button(label: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.pack())


def neighbourhood_name(tr: Translator, n: Neighbourhood) -> str:
    return tr._("{name}, {city}").format(name=localized(tr, n.name_fa, n.name_en),
                                         city=localized(tr, n.city_fa, n.city_en))


# ------------------------------------------------------------------ consent and language


def consent_markup(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(tr._("✅ I agree, send a request"), Consent())],
                                 [_button(tr._("No, thanks"), ConsentDecline())]])


def consent_text(tr: Translator, retention_days: int) -> str:
    """What we keep, who sees a request, how long it is kept, and how to erase it."""
    return tr._(
        "Before you send a request, please know what we keep and who sees it:\n"
        "• your name and Telegram id, so we can answer you;\n"
        "• what you write and send (text, photos, voice notes, files);\n"
        "• your phone number and location only if you choose to share them.\n"
        "A request is seen by your neighbourhood mayor, the staff and the supervisor of the "
        "service house that handles it, and the programme's administrator.\n"
        "It is kept for {days} days after it is closed; then your name, phone, text, files "
        "and location are erased, and only figures for statistics remain (subject, house, "
        "neighbourhood, dates and outcome). /forget_me erases your data at any time.\n"
        "Do you agree?").format(days=tr.digits(retention_days))


def declined_text(tr: Translator, houses: Sequence[House]) -> str:
    """After «No, thanks»: nothing is kept; the help and where to go instead."""
    lines = [tr._("No problem: nothing was sent, and no request is kept. You can read /help "
                  "at any time. The service houses of the programme, which you can also "
                  "visit in person:")]
    lines += [f"• {localized(tr, h.name_fa, h.name_en)}: "
              f"{localized(tr, h.description_fa, h.description_en)}" for h in houses]
    lines.append(tr._("If you change your mind, press «📝 New request»."))
    return "\n".join(lines)


def forget_question(tr: Translator, open_codes: Sequence[str], total: int
                    ) -> tuple[str, InlineKeyboardMarkup]:
    lines = [tr._("This erases your personal data: your name, phone number, and the text, "
                  "files and location of your {n} requests. Only figures for statistics "
                  "remain.").format(n=tr.digits(total))]
    if open_codes:
        lines.append(tr._("Your open requests are withdrawn first, so the houses stop "
                          "working on them: {codes}").format(codes=tr._(", ").join(open_codes)))
    lines.append(tr._("This cannot be undone. Erase your data?"))
    return "\n".join(lines), InlineKeyboardMarkup([[
        _button(tr._("Yes, erase my data"), ForgetMe(ForgetAction.YES)),
        _button(tr._("No, keep it"), ForgetMe(ForgetAction.NO))]])


def forgotten_text(tr: Translator, withdrawn: Sequence[str], erased: int) -> str:
    text = tr._("🔒 Your personal data was erased ({n} requests).").format(
        n=tr.digits(erased))
    if withdrawn:
        text += "\n" + tr._("Withdrawn first: {codes}").format(codes=tr._(", ").join(withdrawn))
    return text


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(LANGUAGE_NAMES[loc], SetLanguage(loc))
                                  for loc in SUPPORTED_LOCALES]])


# ------------------------------------------------------------------ the filing form


def cancel_button(tr: Translator) -> InlineKeyboardButton:
    return _button(tr._("✖️ Cancel"), FormButton(FormAction.CANCEL))


def kind_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    rows = [[_button(tr._(label), PickKind(k))] for k, label in KIND.items()]
    rows.append([cancel_button(tr)])
    return InlineKeyboardMarkup(rows)


def category_keyboard(tr: Translator, items: Sequence[Category]) -> InlineKeyboardMarkup:
    buttons = [_button(localized(tr, c.name_fa, c.name_en), PickCategory(c.id)) for c in items]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_button(tr._("🔙 Back"), FormButton(FormAction.BACK)), cancel_button(tr)])
    return InlineKeyboardMarkup(rows)


def same_subject_keyboard(tr: Translator, other: Ticket) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [_button(tr._("➕ Add to {code}").format(code=other.code), SameSubject(other.id))],
        [_button(tr._("🆕 A new request"), SameSubject(0))],
        [cancel_button(tr)]])


def done_markup(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(tr._("✅ Done"), FormButton(FormAction.DONE)),
                                  cancel_button(tr)]])


def extras_keyboard(tr: Translator, form: ResidentForm) -> ReplyKeyboardMarkup:
    rows = []
    if not form.phone:
        rows.append([KeyboardButton(tr._(PHONE_LABEL), request_contact=True)])
    if form.lat is None:
        rows.append([KeyboardButton(tr._(LOCATION_LABEL), request_location=True)])
    rows.append([KeyboardButton(tr._(CONTINUE_LABEL))])
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


def summary(tr: Translator, s: Summary) -> tuple[str, InlineKeyboardMarkup]:
    form = s.form
    assert form.kind is not None
    lines = [
        tr._("Please check your request:"),
        tr._("📍 Neighbourhood: {name}").format(name=neighbourhood_name(tr, s.neighbourhood)),
        tr._("Type: {kind} · {category}").format(
            kind=kind_label(tr, form.kind),
            category=localized(tr, s.category.name_fa, s.category.name_en)),
        tr._("House: {house}").format(house=localized(tr, s.house.name_fa, s.house.name_en)),
        tr._("Description: {text}").format(text=form.body),
    ]
    if form.files:
        lines.append(tr.ngettext("{n} file attached", "{n} files attached",
                                 len(form.files)).format(n=tr.digits(len(form.files))))
    if form.phone:
        lines.append(tr._("📞 Phone: {phone}").format(phone=form.phone))
    if form.lat is not None:
        lines.append(tr._("📍 Location attached"))
    if form.urgent:
        lines.append(tr._("🚨 Urgent: {reason}").format(reason=form.urgent_reason or ""))
    urgency = (_button(tr._("Not urgent"), FormButton(FormAction.NOT_URGENT)) if form.urgent
               else _button(tr._("🚨 It is urgent"), FormButton(FormAction.URGENT)))
    markup = InlineKeyboardMarkup([
        [_button(tr._("✅ Send"), ConfirmFiling(form.id))],
        [urgency],
        [_button(tr._("✏️ Edit the description"), FormButton(FormAction.EDIT)),
         cancel_button(tr)],
    ])
    return "\n".join(lines), markup


# ------------------------------------------------------------------ the neighbourhood picker


def paged(tr: Translator, items: Sequence[tuple[str, CallbackData]], page: int,
          move: type[Provinces] | Province | City, back: tuple[str, CallbackData] | None
          ) -> InlineKeyboardMarkup:
    """Two buttons a row, PLACE_PAGE a page, previous/next and a back button. `move` is the
    class (provinces) or the item (a province, a city) whose pages are turned."""
    pages = max(1, (len(items) + PLACE_PAGE - 1) // PLACE_PAGE)
    page = min(max(page, 0), pages - 1)
    chunk = items[page * PLACE_PAGE:(page + 1) * PLACE_PAGE]
    rows = [[_button(label, data) for label, data in chunk[i:i + 2]]
            for i in range(0, len(chunk), 2)]

    def at(n: int) -> CallbackData:
        if isinstance(move, type):
            return move(n)
        if isinstance(move, Province):
            return Province(move.province_id, n)
        return City(move.city_id, n)

    moves = []
    if page > 0:
        moves.append(_button(tr._("◀️ Previous"), at(page - 1)))
    if page + 1 < pages:
        moves.append(_button(tr._("Next ▶️"), at(page + 1)))
    if moves:
        rows.append(moves[::-1] if tr.rtl else moves)  # right to left: next on the left
    if back is not None:
        rows.append([_button(back[0], back[1])])
    return InlineKeyboardMarkup(rows)


def location_keyboard(tr: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup([[KeyboardButton(tr._(MY_LOCATION_LABEL), request_location=True)],
                                [KeyboardButton(tr._(CANCEL_LABEL))]],
                               resize_keyboard=True, one_time_keyboard=True)


def neighbourhood_choices(tr: Translator, found: Sequence[Neighbourhood]
                          ) -> InlineKeyboardMarkup:
    rows = [[_button(neighbourhood_name(tr, n), PickNeighbourhood(n.id))] for n in found]
    rows.append([_button(tr._("📋 Choose from the list"), Provinces(0))])
    return InlineKeyboardMarkup(rows)


# ------------------------------------------------------------------ the resident's requests


def due(tr: Translator, ticket: Ticket, timezone: str) -> str:
    """Weekday, Jalali date and time: a moment, never a rule to work out."""
    return format_due(ticket.due_at, tr.locale, timezone)


LATE_STATUS = N_("⏰ Late: not answered by its deadline")
SUBJECT_WORDS = 6
SUBJECT_LETTERS = 40


def subject(text: str) -> str:
    """The first words of a description, for a one-line list."""
    words = text.split()
    short = " ".join(words[:SUBJECT_WORDS])
    if len(short) > SUBJECT_LETTERS:
        short = short[:SUBJECT_LETTERS].rsplit(" ", 1)[0] or short[:SUBJECT_LETTERS]
    return short + ("…" if short != " ".join(words) else "")


def _status(tr: Translator, ticket: Ticket, late: Late | None) -> str:
    return tr._(LATE_STATUS) if late else status_label(tr, ticket.status, ticket.close_reason)


def _line(tr: Translator, ticket: Ticket, timezone: str, category: Category | None = None,
          late: Late | None = None) -> str:
    text = tr._("{code} · {kind} · {status}").format(
        code=ticket.code, kind=kind_label(tr, ticket.kind), status=_status(tr, ticket, late))
    if category is not None:
        text += "\n   " + tr._("{category}: {words}").format(
            category=localized(tr, category.name_fa, category.name_en),
            words=subject(ticket.text))
    if late:
        text += "\n   " + tr._("Answer was due: {due}").format(due=due(tr, ticket, timezone))
    elif ticket.is_open:
        text += "\n   " + tr._("Answer due: {due}").format(due=due(tr, ticket, timezone))
    return text


def late_lines(tr: Translator, late: Late, house: str, timezone: str) -> list[str]:
    """What a resident is told about their overdue request: since when, to whom it was
    reported, and when they hear from us next."""
    lines = [tr._("Answer was due: {due}").format(
                 due=format_due(late.due_at, tr.locale, timezone)),
             tr._("It was reported to the neighbourhood mayor and the supervisor of {house}, "
                  "who follow it up.").format(house=house)]
    if late.second:
        lines.append(tr._("It was then reported again, to those in charge of the "
                          "programme."))
    if late.next_at is not None:
        lines.append(tr._("You will hear from us again by {when}.").format(
            when=format_due(late.next_at, tr.locale, timezone)))
    return lines


def my_list(tr: Translator, found: MyPage, timezone: str
            ) -> tuple[str, InlineKeyboardMarkup | None]:
    if not found.items:
        return tr._("You have not sent any request yet. Press «📝 New request» to send "
                    "one."), None
    head = tr.ngettext("Your requests ({n}), newest first:", "Your requests ({n}), newest "
                       "first:", found.total).format(n=tr.digits(found.total))
    page, pages = found.page, found.pages
    if pages > 1:
        head += " " + tr._("(page {page} of {pages})").format(page=tr.digits(page + 1),
                                                              pages=tr.digits(pages))
    text = "\n\n".join([head, *("• " + _line(tr, t, timezone, found.categories.get(t.id),
                                                found.late.get(t.id)) for t in found.items),
                        tr._("Press a code to see its history.")])
    items = found.items
    rows = [[_button("📄 " + t.code, MyTicket(MyAction.OPEN, t.id)) for t in items[i:i + 3]]
            for i in range(0, len(items), 3)]
    moves = []
    if page > 0:
        moves.append(_button(tr._("◀️ Newer"), MyList(page - 1)))
    if page + 1 < pages:
        moves.append(_button(tr._("Older ▶️"), MyList(page + 1)))
    if moves:
        rows.append(moves[::-1] if tr.rtl else moves)  # right to left: next on the left
    return text, InlineKeyboardMarkup(rows)


def _event_line(tr: Translator, event: TicketEvent, timezone: str) -> str:
    when = format_datetime(event.at, tr.locale, timezone)
    label = tr._(SLA_LABELS.get(str(event.details.get("sla")), EVENT_LABELS[Action.SLA])
                 if event.action == Action.SLA else
                 EVENT_LABELS.get(event.action, N_("Update")))
    if event.action == Action.RATE and "rating" in event.details:
        label += " " + tr.digits(event.details["rating"]) + "⭐"
    line = f"• {when} — {label}"
    if event.body:
        line += f": {event.body}"
    return line


def ticket_view(tr: Translator, d: Detail, timezone: str, calendar: WorkCalendar | None = None
                ) -> tuple[str, InlineKeyboardMarkup]:
    """The resident's view of one request: public history only, never internal notes."""
    ticket = d.ticket
    lines = [
        tr._("Request {code}").format(code=ticket.code),
        tr._("Type: {kind} · {category}").format(
            kind=kind_label(tr, ticket.kind),
            category=localized(tr, d.category.name_fa, d.category.name_en)),
        tr._("House: {house}").format(house=localized(tr, d.house.name_fa, d.house.name_en)),
        tr._("Status: {status}").format(status=_status(tr, ticket, d.late)),
    ]
    if d.late is not None:
        lines.extend(late_lines(tr, d.late, localized(tr, d.house.name_fa, d.house.name_en),
                                timezone))
    elif ticket.is_open:
        lines.append(tr._("Answer due: {due}").format(due=due(tr, ticket, timezone)))
        note = holiday_note(tr, ticket, calendar) if ticket.paused_at is None else None
        if note:
            lines.append(note)
    if ticket.urgent:
        lines.append(tr._("🚨 Urgent: {reason}").format(reason=ticket.urgent_reason or ""))
    if d.files:
        lines.append(tr.ngettext("📎 You attached {n} file", "📎 You attached {n} files",
                                 d.files).format(n=tr.digits(d.files)))
    lines.append("")
    lines.append(tr._("History:"))
    lines.extend(_event_line(tr, e, timezone) for e in d.history)
    rows: list[list[InlineKeyboardButton]] = []
    if ticket.is_open:
        rows.append([_button(tr._("✍️ Add a message"), MyTicket(MyAction.FOLLOW, ticket.id)),
                     _button(tr._("↩️ Withdraw"), MyTicket(MyAction.WITHDRAW, ticket.id))])
    elif ticket.rating is None and d.can_reopen:
        rows.extend(list(r) for r in rating_keyboard(tr, ticket.id).inline_keyboard)
    rows.append([_button(tr._("🔙 All my requests"), MyList(0))])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def withdraw_question(tr: Translator, ticket: Ticket) -> tuple[str, InlineKeyboardMarkup]:
    return (tr._("Do you really want to withdraw request {code}? The house will stop "
                 "working on it.").format(code=ticket.code),
            InlineKeyboardMarkup([[
                _button(tr._("Yes, withdraw it"), MyTicket(MyAction.WITHDRAW_YES, ticket.id)),
                _button(tr._("No, keep it"), MyTicket(MyAction.OPEN, ticket.id))]]))


def skip_markup(tr: Translator, ticket: Ticket) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(tr._("Skip"), RateButton(RateAction.SKIP,
                                                                   ticket.id))]])
