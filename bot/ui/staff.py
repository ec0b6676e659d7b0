"""Keyboards of the staff and mayor cards and lists."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.models import House, Ticket
from bot.domain.tickets import CloseReason, Status
from bot.i18n import Translator
from bot.services.roles import Scope
from bot.ui import callbacks
from bot.ui.labels import CLOSE_REASON, localized


def _b(text: str, *parts: object) -> InlineKeyboardButton:
    feature, action, *args = parts
    return InlineKeyboardButton(text, callback_data=callbacks.build(str(feature), str(action),
                                                                    *args))


def card_buttons(tr: Translator, scope: Scope, ticket: Ticket, *, files: bool = False
                 ) -> InlineKeyboardMarkup:
    """Every command of the card as a button, as far as this person may use it; `files`:
    the ticket has attachments or a location to show."""
    rows: list[list[InlineKeyboardButton]] = []
    t = ticket.id
    if scope.is_staff:
        if ticket.status is Status.CLOSED:
            rows.append([_b(tr._("🔁 Reopen"), "st", "reopen", t)])
        else:
            rows.append([_b(tr._("✋ Take"), "st", "take", t),
                         _b(tr._("💬 Reply"), "st", "reply", t),
                         _b(tr._("❓ Ask"), "st", "ask", t)])
            rows.append([_b(tr._("📋 Templates"), "st", "tpls", t),
                         _b(tr._("📨 Transfer"), "st", "xfer", t),
                         _b(tr._("✅ Close"), "st", "close", t)])
    if scope.is_mayor and ticket.status is not Status.CLOSED:
        rows.append([_b(tr._("🔀 Re-route"), "mb", "route", t),
                     _b(tr._("👯 Duplicate"), "mb", "dup", t)])
    last = [_b(tr._("🔒 Note"), "st", "note", t), _b(tr._("🕘 History"), "st", "hist", t)]
    if files:
        last.append(_b(tr._("📎 Attachments"), "st", "files", t))
    rows.append(last)
    return InlineKeyboardMarkup(rows)


def house_buttons(tr: Translator, all_houses: list[House], ticket: Ticket, action: str,
                  feature: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [_b(localized(tr, h.name_fa, h.name_en), feature, action, ticket.id, h.code)]
        for h in all_houses if h.id != ticket.house_id])


def close_buttons(tr: Translator, ticket: Ticket) -> InlineKeyboardMarkup:
    reasons = [r for r in CloseReason if r is not CloseReason.WITHDRAWN]
    return InlineKeyboardMarkup([[_b(tr._(CLOSE_REASON[r]), "st", "cr", ticket.id, r.value)]
                                 for r in reasons])


def list_buttons(tr: Translator, tickets: list[Ticket], *, feature: str, kind: str,
                 page: int, total: int, page_size: int) -> InlineKeyboardMarkup:
    rows = [[_b(f"📄 {t.code}", "st", "show", t.id)] for t in tickets]
    nav = []
    if page > 0:
        nav.append(_b(tr._("◀️ Previous"), feature, "q", kind, page - 1))
    if (page + 1) * page_size < total:
        nav.append(_b(tr._("Next ▶️"), feature, "q", kind, page + 1))
    if nav:
        rows.append(nav)
    if feature == "st":
        labels = {"all": tr._("All"), "mine": tr._("Mine"), "unassigned": tr._("Unassigned"),
                  "overdue": tr._("Overdue")}
        rows.append([_b(("• " if k == kind else "") + label, "st", "q", k, 0)
                     for k, label in labels.items()])
    return InlineKeyboardMarkup(rows)
