"""Field visit screens: the filer's keyboards and texts, the summary, and the claim answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.models import Category, House, Neighbourhood
from bot.domain.visits import masked
from bot.i18n import Translator
from bot.services.visits import Receipt, State, Summary, WrongDigits
from bot.ui.buttons import (
    VisitAction,
    VisitButton,
    VisitCategory,
    VisitFile,
    VisitKind,
    VisitPlace,
)
from bot.ui.callbacks import CallbackData
from bot.ui.jalali import TEHRAN, format_datetime
from bot.ui.labels import KIND, localized


def _button(label: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.pack())


def _name(tr: Translator, n: Neighbourhood | None) -> str:
    return localized(tr, n.name_fa, n.name_en) if n is not None else "?"


def drop_button(tr: Translator) -> InlineKeyboardButton:
    return _button(tr._("✖️ Drop this request"), VisitButton(VisitAction.DROP))


def place_keyboard(tr: Translator, options: Sequence[Neighbourhood]) -> InlineKeyboardMarkup:
    buttons = [_button(_name(tr, n), VisitPlace(n.id)) for n in options[:40]]
    return InlineKeyboardMarkup([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def when_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(tr._("⏱ Now"), VisitButton(VisitAction.NOW))]])


def ready_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [_button(tr._("➕ Request for a person"), VisitButton(VisitAction.NEW))],
        [_button(tr._("🏁 End the visit"), VisitButton(VisitAction.END))]])


def phone_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(tr._("🚫 No phone"), VisitButton(VisitAction.NO_PHONE))],
                                 [drop_button(tr)]])


def kind_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    rows = [[_button(tr._(label), VisitKind(k))] for k, label in KIND.items()]
    return InlineKeyboardMarkup([*rows, [drop_button(tr)]])


def category_keyboard(tr: Translator, items: Sequence[Category]) -> InlineKeyboardMarkup:
    buttons = [_button(localized(tr, c.name_fa, c.name_en), VisitCategory(c.id)) for c in items]
    return InlineKeyboardMarkup([*(buttons[i:i + 2] for i in range(0, len(buttons), 2)),
                                 [drop_button(tr)]])


def describe_keyboard(tr: Translator, draft_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(tr._("✅ File the request"), VisitFile(draft_id))],
                                 [drop_button(tr)]])


# ---------------------------------------------------------------------------- texts


def place_text(tr: Translator) -> str:
    return tr._("🤝 Field visit. In which neighbourhood is it?")


def title_text(tr: Translator, state: State) -> str:
    return tr._("🤝 Field visit in {name}.\nWrite a short title for it, for example "
                "«Friendly meeting at the Jameh mosque».").format(
        name=_name(tr, state.neighbourhood))


def when_text(tr: Translator) -> str:
    return tr._("When is it held? Press «Now», or write a time such as 10:30 or "
                "1405/09/09 10:30.")


def ready_text(tr: Translator, state: State, tz: str = TEHRAN) -> str:
    visit = state.visit
    held = format_datetime(visit.held_at, tr.locale, tz) if visit.held_at else ""
    lines = [tr._("🤝 Field visit «{title}» · {name} · {when}").format(
        title=visit.title, name=_name(tr, state.neighbourhood), when=held)]
    if state.filed:
        lines.append(tr.ngettext("{n} request filed so far.", "{n} requests filed so far.",
                                 state.filed).format(n=tr.digits(state.filed)))
    lines.append(tr._("For each person: «➕ Request for a person». At the end: «🏁 End the "
                      "visit» or /visit end. A location you send now becomes the visit's."))
    return "\n".join(lines)


def name_text(tr: Translator) -> str:
    return tr._("👤 The person's name?")


def phone_text(tr: Translator) -> str:
    return tr._("📞 Their mobile number? (With it they can later follow the request in "
                "Telegram themselves.) Or press «No phone».")


def kind_text(tr: Translator) -> str:
    return tr._("What is it?")


def category_text(tr: Translator) -> str:
    return tr._("What is it about?")


def describe_text(tr: Translator, category: Category, house: House) -> str:
    return tr._("It goes to {house} ({category}).\nNow describe it: write it or send a voice "
                "message; photos and a location may follow (the visit's location is used "
                "otherwise). Then press «✅ File the request».").format(
        house=localized(tr, house.name_fa, house.name_en),
        category=localized(tr, category.name_fa, category.name_en))


def added_text(tr: Translator) -> str:
    return tr._("Added. More, or «✅ File the request».")


def filed_text(tr: Translator, receipt: Receipt, tz: str = TEHRAN) -> str:
    ticket, request = receipt.ticket, receipt.request
    lines = [tr._("✅ Filed for {name}. Tracking code: {code}").format(
                 name=request.name, code=ticket.code),
             tr._("House: {house}").format(house=localized(tr, receipt.house.name_fa,
                                                          receipt.house.name_en)),
             tr._("Answer due: {due}").format(due=format_datetime(ticket.due_at, tr.locale,
                                                                  tz))]
    if request.phone is None:
        lines.append(tr._("No phone: messages for this person come to you, and only you can "
                          "hand the request over (/handover {code}).").format(code=ticket.code))
    lines.append(tr._("Give them the receipt below (print it or send it to a relative)."))
    return "\n".join(lines)


def summary_text(tr: Translator, summary: Summary) -> str:
    receipts = summary.receipts
    lines = [tr._("🏁 Field visit «{title}» in {name} ended.").format(
                 title=summary.visit.title, name=_name(tr, summary.neighbourhood)),
             tr.ngettext("{n} request filed.", "{n} requests filed.", len(receipts)).format(
                 n=tr.digits(len(receipts)))]
    houses = Counter(localized(tr, r.house.name_fa, r.house.name_en) for r in receipts)
    if houses:
        lines.append(tr._("Houses: {list}").format(list="، ".join(
            f"{house} {tr.digits(n)}" for house, n in houses.most_common())))
    for r in receipts:
        phone = tr.digits(masked(r.request.phone)) if r.request.phone else tr._("no phone")
        lines.append(f"• {r.ticket.code} · {r.request.name} · {phone} · "
                     f"{localized(tr, r.house.name_fa, r.house.name_en)}")
    if receipts:
        lines.append(tr._("All receipts are in the PDF below, one per page, for printing."))
    return "\n".join(lines)


def handover_text(tr: Translator, name: str, code: str, link: str) -> str:
    return tr._("🔗 A one-time link for {name} (request {code}). Whoever opens it first gets "
                "the request's updates; it is valid for 7 days:\n{link}").format(
        name=name, code=code, link=link)


def ask_digits_text(tr: Translator, code: str) -> str:
    return tr._("To follow request {code} here, send the last four digits of the mobile "
                "number given when it was filed.").format(code=code)


def claimed_text(tr: Translator, code: str) -> str:
    return tr._("✅ Request {code} is now yours: its updates come to you here. Its state: "
                "/status {code}").format(code=code)


def wrong_text(tr: Translator, exc: WrongDigits) -> str:
    if exc.left <= 0:
        return tr._("❌ Those digits do not match. Claiming request {code} is now locked for "
                    "a day.").format(code=exc.code)
    return tr.ngettext("❌ Those digits do not match. {n} more try.",
                       "❌ Those digits do not match. {n} more tries.", exc.left).format(
        n=tr.digits(exc.left))

