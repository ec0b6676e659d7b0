"""Keyboards of the staff and mayor cards and lists; every button's data is a typed class
from `bot.ui.buttons`."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.models import House, Ticket
from bot.domain.tickets import CloseReason, Status
from bot.i18n import Translator
from bot.services.roles import Scope
from bot.services.staff import CannedReply
from bot.ui.buttons import (
    CardAction,
    CardButton,
    CloseWith,
    InboxPage,
    MayorAction,
    MayorButton,
    QueuePage,
    RouteTo,
    TransferTo,
    UseTemplate,
)
from bot.ui.callbacks import CallbackData
from bot.ui.labels import CLOSE_REASON, localized


def _b(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data.pack())


def card_buttons(tr: Translator, scope: Scope, ticket: Ticket, *, files: bool = False
                 ) -> InlineKeyboardMarkup:
    """Every command of the card as a button, as far as this person may use it; `files`:
    the ticket has attachments or a location to show."""
    rows: list[list[InlineKeyboardButton]] = []
    t = ticket.id

    def card(label: str, action: CardAction) -> InlineKeyboardButton:
        return _b(label, CardButton(action, t))

    if scope.is_staff:
        if ticket.status is Status.CLOSED:
            rows.append([card(tr._("🔁 Reopen"), CardAction.REOPEN)])
        else:
            first = [card(tr._("💬 Reply"), CardAction.REPLY),
                     card(tr._("❓ Ask"), CardAction.ASK)]
            if ticket.assignee_id is None:      # taken: no Take offered again
                first.insert(0, card(tr._("✋ Take"), CardAction.TAKE))
            rows.append(first)
            rows.append([card(tr._("📋 Templates"), CardAction.TEMPLATES),
                         card(tr._("📨 Transfer"), CardAction.TRANSFER),
                         card(tr._("✅ Close"), CardAction.CLOSE)])
    if scope.is_mayor and ticket.status is not Status.CLOSED:
        rows.append([_b(tr._("🔀 Re-route"), MayorButton(MayorAction.ROUTE, t)),
                     _b(tr._("🔁 Duplicate"), MayorButton(MayorAction.DUPLICATE, t))])
    last = [card(tr._("🔒 Note"), CardAction.NOTE), card(tr._("🕘 History"), CardAction.HISTORY)]
    if files:
        last.append(card(tr._("📎 Attachments"), CardAction.FILES))
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def house_buttons(tr: Translator, all_houses: list[House], ticket: Ticket,
                  button: Callable[[int, str], TransferTo | RouteTo]) -> InlineKeyboardMarkup:
    """The other houses; `button`: `TransferTo` (staff) or `RouteTo` (mayor)."""
    return InlineKeyboardMarkup([
        [_b(localized(tr, h.name_fa, h.name_en), button(ticket.id, h.code))]
        for h in all_houses if h.id != ticket.house_id])


def close_buttons(tr: Translator, ticket: Ticket) -> InlineKeyboardMarkup:
    reasons = [r for r in CloseReason if r is not CloseReason.WITHDRAWN]
    return InlineKeyboardMarkup([[_b(tr._(CLOSE_REASON[r]), CloseWith(ticket.id, r))]
                                 for r in reasons])


def template_buttons(tr: Translator, ticket: Ticket, items: list[CannedReply]
                     ) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_b(f"#{tr.digits(t.id)} {t.title}",
                                     UseTemplate(ticket.id, t.id))] for t in items])


def list_buttons(tr: Translator, tickets: list[Ticket], *, feature: str, kind: str,
                 page: int, total: int, page_size: int) -> InlineKeyboardMarkup:
    """A button per ticket, then paging: `feature` "st" (staff queue, with its filters),
    "mb" (mayor inbox) or "search" (no paging)."""
    rows = [[_b(f"📄 {t.code}", CardButton(CardAction.SHOW, t.id))] for t in tickets]
    page_of: Callable[[str, int], CallbackData] | None = (
        QueuePage if feature == "st" else InboxPage if feature == "mb" else None)
    nav = []
    if page_of is not None and page > 0:
        nav.append(_b(tr._("◀️ Previous"), page_of(kind, page - 1)))
    if page_of is not None and (page + 1) * page_size < total:
        nav.append(_b(tr._("Next ▶️"), page_of(kind, page + 1)))
    if nav:
        rows.append(nav[::-1] if tr.rtl else nav)  # right to left: next on the left
    if feature == "st":
        labels = {"all": tr._("All"), "mine": tr._("Mine"), "unassigned": tr._("Unassigned"),
                  "overdue": tr._("Overdue")}
        rows.append([_b(("• " if k == kind else "") + label, QueuePage(k, 0))
                     for k, label in labels.items()])
    return InlineKeyboardMarkup(rows)
