"""Notices rendered when they are sent: one renderer per `NoticeKind`.

The outbox worker calls `NoticeRenderer.render` right before sending a notice row: the
recipient's language is read then (a person who switched to English after the notice was
queued gets it in English; groups get the default), and houses, neighbourhoods and
categories named by id are looked up then. Texts are the ones the services rendered before
notices were typed; keyboards (Show/Take, the rating stars) are built here too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.domain.notices import ARGS_KEY, PAYLOAD_KEY, RESIDENT_NOTICES, NoticeKind, parse_when
from bot.domain.tickets import CloseReason, Kind, Status
from bot.i18n import N_, Translator, translator
from bot.services import visits as visits_svc
from bot.services.notify import Name, Ref, ReferenceNames, send_context
from bot.ui.buttons import NoticeAction, NoticeButton, Rate, RateAction, RateButton
from bot.ui.jalali import TEHRAN, format_date, format_datetime, format_due, format_duration
from bot.ui.labels import CLOSE_REASON, kind_label, localized, status_label
from bot.ui.menus import main_menu
from storage.db import Database

Keyboard = InlineKeyboardMarkup | ReplyKeyboardMarkup


@dataclass(frozen=True)
class Rendered:
    text: str
    reply_markup: Keyboard | None = None


# Arguments that name reference data by id; their names are read when the notice is sent.
REFERENCES: dict[str, Ref] = {
    "neighbourhood_id": Ref.NEIGHBOURHOOD,
    "house_id": Ref.HOUSE,
    "from_house_id": Ref.HOUSE,
    "to_house_id": Ref.HOUSE,
    "category_id": Ref.CATEGORY,
}


@dataclass(frozen=True)
class View:
    """One notice about to be rendered for one reader."""

    tr: Translator
    ticket_id: int | None
    args: dict[str, Any]
    tz: str
    names: Mapping[tuple[Ref, int], Name | None]

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    def get(self, key: str) -> Any:
        return self.args.get(key)

    def name(self, key: str) -> str:
        """The reader's name of the reference item in argument `key` ("?" if it is gone)."""
        found = self.names.get((REFERENCES[key], int(self.args[key])))
        return localized(self.tr, *found) if found else "?"

    def moment(self, key: str) -> datetime:
        return parse_when(self.args[key])

    def date_time(self, key: str) -> str:
        return format_datetime(self.moment(key), self.tr.locale, self.tz)

    def due(self, key: str = "due") -> str:
        """A deadline people can act on: weekday, Jalali date and time."""
        return format_due(self.moment(key), self.tr.locale, self.tz)

    def holiday_note(self) -> str | None:
        """The holidays that moved an office-time deadline, in the reader's language."""
        names = [fa if self.tr.locale == "fa" else en for fa, en in self.get("holidays") or []]
        if not names:
            return None
        joined = "، ".join(names) if self.tr.locale == "fa" else ", ".join(names)
        return self.tr._("🗓 The offices are closed before then ({holidays}), so the deadline "
                         "is later.").format(holidays=joined)

    @property
    def ticket(self) -> int:
        if self.ticket_id is None:
            raise ValueError("this notice needs a ticket")
        return self.ticket_id


# ---------------------------------------------------------------------------- keyboards

def ticket_buttons(tr: Translator, ticket_id: int, *, can_take: bool = True
                   ) -> InlineKeyboardMarkup:
    """Show (the card, with the actions the reader's role allows) and, for staff, Take."""
    row = [InlineKeyboardButton(tr._("📄 Show"),
                                callback_data=NoticeButton(NoticeAction.SHOW, ticket_id).pack())]
    if can_take:
        row.append(InlineKeyboardButton(
            tr._("✋ Take"), callback_data=NoticeButton(NoticeAction.TAKE, ticket_id).pack()))
    return InlineKeyboardMarkup([row])


def rating_keyboard(tr: Translator, ticket_id: int) -> InlineKeyboardMarkup:
    """Stars 1-5 and "not resolved", under the message that tells the resident it is closed."""
    stars = [InlineKeyboardButton(tr.digits(n) + "⭐", callback_data=Rate(ticket_id, n).pack())
             for n in range(1, 6)]
    return InlineKeyboardMarkup([
        stars,
        [InlineKeyboardButton(tr._("❌ Not resolved"),
                              callback_data=RateButton(RateAction.NOT_RESOLVED,
                                                       ticket_id).pack())],
    ])


def _rating(v: View) -> InlineKeyboardMarkup | None:
    return rating_keyboard(v.tr, v.ticket) if v.get("rate") else None


# ---------------------------------------------------------------------------- staff side

def _announce(v: View) -> Rendered:
    tr = v.tr
    new = v.args.get("new", True)
    lines = [
        tr._("🆕 New request {code}").format(code=v["code"]) if new else
        tr._("📨 Request {code} was passed to {house}").format(
            code=v["code"], house=v.name("house_id")) if v.get("mayor_view") else
        tr._("📥 Request {code} is now in your queue").format(code=v["code"]),
        tr._("Neighbourhood: {name}").format(name=v.name("neighbourhood_id")),
        tr._("Type: {kind} · {category}").format(kind=kind_label(tr, Kind(v["ticket_kind"])),
                                                 category=v.name("category_id")),
        tr._("House: {house}").format(house=v.name("house_id")),
        tr._("Answer due: {due}").format(due=v.due()),
    ]
    if v.get("urgent"):
        lines.insert(1, tr._("🚨 Urgent: {reason}").format(reason=v.get("urgent_reason") or ""))
    if v.get("unowned"):
        lines.append(tr._("⚠️ No staff member of this house covers this neighbourhood "
                          "yet. Please take it or invite staff."))
    return Rendered("\n".join(lines), ticket_buttons(tr, v.ticket, can_take=v["can_take"]))


def _followup(v: View) -> Rendered:
    tr = v.tr
    text = tr._("💬 New message from the resident on request {code}:\n{body}").format(
        code=v["code"], body=v["body"])
    files = int(v.get("attachments") or 0)
    if files:
        text += "\n" + tr.ngettext("({n} attachment)", "({n} attachments)",
                                   files).format(n=tr.digits(files))
    return Rendered(text)


def _withdrawn(v: View) -> Rendered:
    return Rendered(v.tr._("↩️ The resident withdrew request {code}. Nothing more to do.")
                    .format(code=v["code"]))


def _sla_reminder(v: View) -> Rendered:
    tr = v.tr
    if v.get("office"):     # time left counted in office hours ("6 office hours left")
        head = tr._("⏰ Request {code} must be answered within {left} of office time.").format(
            code=v["code"], left=format_duration(timedelta(seconds=int(v["left"])), tr.locale))
    else:
        head = tr._("⏰ Request {code} must be answered within {left}.").format(
            code=v["code"], left=format_duration(v.moment("due") - v.moment("at"), tr.locale))
    lines = [
        head,
        tr._("Answer due: {due}").format(due=v.due()),
        tr._("Neighbourhood: {name}").format(name=v.name("neighbourhood_id")),
        tr._("House: {house}").format(house=v.name("house_id")),
    ]
    note = v.holiday_note()
    if note:
        lines.insert(2, note)
    return Rendered("\n".join(lines), ticket_buttons(tr, v.ticket, can_take=True))


def _sla_escalation(v: View) -> Rendered:
    tr = v.tr
    head = (tr._("🚨 Second escalation: request {code} is still unanswered, {late} after "
                 "its deadline.") if v.get("second") else
            tr._("🚨 Request {code} was not answered within {hours} office hours.")
            if v.get("office") else
            tr._("🚨 Request {code} was not answered within {hours} hours."))
    if v.get("urgent"):     # "🚨 URGENT · Request … was not answered …"
        head = "🚨 " + tr._("URGENT") + " · " + head.removeprefix("🚨 ")
    assignee = v.get("assignee")
    return Rendered("\n".join([
        head.format(code=v["code"], hours=tr.digits(v["hours"]),
                    late=format_duration(v.moment("at") - v.moment("due"), tr.locale)),
        tr._("Answer was due: {due}").format(due=v.date_time("due")),
        tr._("Neighbourhood: {name}").format(name=v.name("neighbourhood_id")),
        tr._("House: {house}").format(house=v.name("house_id")),
        tr._("Taken by: {name}").format(name=assignee) if assignee else
        tr._("Nobody has taken it yet."),
    ]), ticket_buttons(tr, v.ticket, can_take=False))


def _digest(v: View) -> Rendered:
    tr = v.tr

    def codes(items: list[str]) -> str:
        return "، ".join(items) if tr.locale == "fa" else ", ".join(items)

    lines = [
        tr._("📊 Daily summary, {date}").format(
            date=format_date(v.moment("at"), tr.locale, v.tz)),
        tr._("Open requests: {n}").format(n=tr.digits(v["open"])),
        tr._("Due within 24 hours: {n}").format(n=tr.digits(v["due_soon"])),
        tr._("Overdue: {n}").format(n=tr.digits(v["overdue"])),
    ]
    if v.get("oldest_overdue"):
        lines.append(tr._("Most overdue: {codes}").format(codes=codes(v["oldest_overdue"])))
    if v.get("soonest_due"):
        lines.append(tr._("Due soonest: {codes}").format(codes=codes(v["soonest_due"])))
    lines.append(tr._("Oldest open: {codes}").format(codes=codes(v["oldest_open"])))
    return Rendered("\n".join(lines))


# ---------------------------------------------------------------------------- the resident

ANSWER = N_("💬 Answer to your request {code}:\n\n{text}\n\nTo write back, reply to this "
            "message.")
QUESTION = N_("❓ A question about your request {code}:\n\n{text}\n\nPlease reply to this "
              "message with your answer.")


def _taken(v: View) -> Rendered:
    return Rendered(v.tr._("🛠 A staff member is now working on your request {code}.")
                    .format(code=v["code"]), _rating(v))


def _answer(v: View) -> Rendered:
    return Rendered(v.tr._(ANSWER).format(code=v["code"], text=v["text"]), _rating(v))


CAPTION_LIMIT = 1024


def _answer_copy(v: View) -> Rendered:
    """The caption of the copy of a staff member's photo, voice note or file."""
    tr = v.tr
    text = (v.get("text") or "").strip()
    if text:
        rendered = tr._(ANSWER).format(code=v["code"], text=text)
        if len(rendered) > CAPTION_LIMIT:
            cut = len(rendered) - CAPTION_LIMIT + 1
            rendered = tr._(ANSWER).format(code=v["code"], text=text[:-cut] + "…")
    else:
        rendered = tr._("💬 Answer to your request {code}.\n\nTo write back, reply to this "
                        "message.").format(code=v["code"])
    return Rendered(rendered[:CAPTION_LIMIT], _rating(v))


def _question(v: View) -> Rendered:
    return Rendered(v.tr._(QUESTION).format(code=v["code"], text=v["text"]), _rating(v))


def _moved(v: View) -> Rendered:
    return Rendered(v.tr._(
        "📨 Your request {code} was passed from {old} to {new}, which handles this "
        "kind of request. The deadline stays the same.").format(
            code=v["code"], old=v.name("from_house_id"), new=v.name("to_house_id")),
        _rating(v))


def _closed(v: View) -> Rendered:
    tr = v.tr
    lines = [tr._("✅ Your request {code} was closed: {reason}.").format(
        code=v["code"], reason=tr._(CLOSE_REASON[CloseReason(v["reason"])]))]
    if v.get("original"):
        lines.append(tr._("It is the same as request {original}; follow that one "
                          "with /status {original}.").format(original=v["original"]))
    if v.get("message"):
        lines.append("\n" + v["message"])
    lines.append("\n" + tr._("How was the answer? If the problem is not solved, "
                             "press «Not resolved»."))
    return Rendered("\n".join(lines), _rating(v))


def _reopened(v: View) -> Rendered:
    return Rendered(v.tr._("🔁 Your request {code} was reopened. New answer deadline: {due}.")
                    .format(code=v["code"], due=v.due()), _rating(v))


def _urgency(v: View) -> Rendered:
    tr = v.tr
    if v.get("urgent"):
        text = tr._("🚨 Your request {code} is now treated as urgent. It will be answered by "
                    "{due}.")
    else:
        text = tr._("Your request {code} is no longer marked urgent. It will be answered by "
                    "{due}.")
    return Rendered(text.format(code=v["code"], due=v.due()), _rating(v))


def _update(v: View) -> Rendered:
    tr = v.tr
    status = Status(v["status"])
    reason = CloseReason(v["close_reason"]) if v.get("close_reason") else None
    lines = [tr._("📬 Update on your request {code}").format(code=v["code"]),
             tr._("Status: {status}").format(status=status_label(tr, status, reason))]
    if v.get("body"):
        lines.append(tr._("Message: {body}").format(body=v["body"]))
    if status is Status.AWAITING_RESIDENT:
        lines.append(tr._("To answer, reply to this message."))
    elif status is Status.CLOSED and reason is not CloseReason.WITHDRAWN:
        lines.append(tr._("How was the answer? Rate it, or press «Not resolved» if the "
                          "problem is still there."))
    elif status is not Status.CLOSED:
        lines.append(tr._("Answer due: {due}").format(due=v.due()))
    return Rendered("\n".join(lines), _rating(v))


def _resident_late(v: View) -> Rendered:
    tr = v.tr
    if v.get("second"):
        return Rendered(tr._("😔 Your request {code} has still not been answered. It has now "
                             "been reported again, to those in charge of the programme.")
                        .format(code=v["code"]))
    if v.get("next"):
        head = (tr._("😔 We are sorry: your request {code} was not answered within {hours} "
                     "office hours.") if v.get("office") else
                tr._("😔 We are sorry: your request {code} was not answered within {hours} "
                     "hours."))
        return Rendered("\n".join([
            head.format(code=v["code"], hours=tr.digits(v["hours"])),
            tr._("It was reported to the neighbourhood mayor and the supervisor of {house}, "
                 "who follow it up.").format(house=v.name("house_id")),
            tr._("You will hear from us again by {when}.").format(when=v.due("next")),
        ]))
    if v.get("office"):
        text = tr._("😔 We are sorry: your request {code} was not answered within {hours} "
                    "office hours. It has been reported to the neighbourhood mayor and the "
                    "person in charge at the service house, so that it is followed up.")
    else:
        text = tr._("😔 We are sorry: your request {code} was not answered within "
                    "{hours} hours. It has been reported to the neighbourhood mayor and "
                    "the person in charge at the service house, so that it is followed "
                    "up.")
    return Rendered(text.format(code=v["code"], hours=tr.digits(v["hours"])))


def receipt_text(tr: Translator, code: str, house: str, due: str, note: str | None) -> str:
    """The receipt after «✅ Send» (the handler's direct reply and the outbox's copy): the
    tracking code stands on a line of its own; `due` is the formatted deadline, `note` the
    holidays that moved it."""
    text = tr._("✅ Your request was sent. Your tracking code:\n{code}\n{house} will answer "
                "by {due}. You will hear from us at every change. To see it later: «📋 My "
                "requests» or /status {code}").format(code=code, house=house, due=due)
    return text + "\n" + note if note else text


def _receipt(v: View) -> Rendered:
    house = v.name("house_id") if v.get("house_id") is not None else v.tr._("The house")
    return Rendered(receipt_text(v.tr, v["code"], house, v.due(), v.holiday_note()),
                    main_menu(v.tr))


def _claimed(v: View) -> Rendered:
    return Rendered(v.tr._("🔗 {name} now follows request {code} in Telegram; its messages "
                           "go to them from now on.").format(name=v["name"], code=v["code"]))


RENDERERS: dict[NoticeKind, Callable[[View], Rendered]] = {
    NoticeKind.NEW_TICKET: _announce,
    NoticeKind.IN_YOUR_QUEUE: _announce,
    NoticeKind.FOLLOWUP: _followup,
    NoticeKind.WITHDRAWN: _withdrawn,
    NoticeKind.TAKEN: _taken,
    NoticeKind.ANSWER: _answer,
    NoticeKind.ANSWER_COPY: _answer_copy,
    NoticeKind.QUESTION: _question,
    NoticeKind.MOVED: _moved,
    NoticeKind.CLOSED: _closed,
    NoticeKind.REOPENED: _reopened,
    NoticeKind.UPDATE: _update,
    NoticeKind.SLA_REMINDER: _sla_reminder,
    NoticeKind.SLA_ESCALATION: _sla_escalation,
    NoticeKind.SLA_RESIDENT_LATE: _resident_late,
    NoticeKind.DIGEST: _digest,
    NoticeKind.RECEIPT: _receipt,
    NoticeKind.CLAIMED: _claimed,
    NoticeKind.URGENCY: _urgency,
}


def proxy_prefix(tr: Translator, name: str) -> str:
    """Above a message meant for a resident that goes to whoever filed it for them."""
    return tr._("📌 For the resident: {name}").format(name=name)


def is_notice(payload: dict[str, Any]) -> bool:
    return PAYLOAD_KEY in payload


def render(notice: NoticeKind, tr: Translator, ticket_id: int | None, args: dict[str, Any],
           names: Mapping[tuple[Ref, int], Name | None], tz: str = TEHRAN) -> Rendered:
    """Pure: one notice for one reader whose names are already looked up."""
    return RENDERERS[notice](View(tr, ticket_id, args, tz, names))


class NoticeRenderer:
    """What the outbox worker calls for a notice row right before sending it."""

    def __init__(self, *, default_locale: str = "fa", timezone: str = TEHRAN) -> None:
        self.default_locale = default_locale
        self.timezone = timezone
        self.names = ReferenceNames()

    async def render(self, db: Database, chat_id: int, ticket_id: int | None,
                     payload: dict[str, Any]) -> Rendered:
        """KeyError / ValueError when the row cannot be rendered (it is then failed)."""
        notice = NoticeKind(payload[PAYLOAD_KEY])
        args: dict[str, Any] = dict(payload.get(ARGS_KEY) or {})
        wanted = [(ref, int(args[key])) for key, ref in REFERENCES.items()
                  if args.get(key) is not None]
        ctx = await send_context(db, self.names, chat_id, wanted, self.default_locale)
        tr = translator(ctx.locale)
        rendered = render(notice, tr, ticket_id, args, ctx.names, self.timezone)
        if notice in RESIDENT_NOTICES and ticket_id is not None:
            # A request filed at a field visit and not claimed yet: its resident's messages
            # go to whoever filed it, marked, to pass on by phone or in person.
            name = await visits_svc.proxy_name(db, ticket_id, chat_id)
            if name is not None:
                return replace(rendered, text=f"{proxy_prefix(tr, name)}\n\n{rendered.text}")
        return rendered
