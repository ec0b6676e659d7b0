"""The SLA badge staff see on cards and in /queue: "due in 5 h", "due in 2 working days",
"overdue 3 h"..."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Ticket
from bot.domain.sla import ClockKind, SlaState, describe
from bot.domain.tickets import Status
from bot.domain.workcal import WALL, Span, WorkCalendar
from bot.i18n import Translator
from bot.ui.jalali import format_duration


def sla_badge(tr: Translator, ticket: Ticket, now: datetime,
              calendar: WorkCalendar | None = None) -> str:
    """One short line for cards and /queue lines. A ticket on office time (given the working
    calendar) counts working days ("due in 2 working days") or office time left."""
    if ticket.status is Status.CLOSED:
        return tr._("closed")
    office = calendar is not None and ticket.sla_clock == ClockKind.OFFICE.value
    span: Span = calendar if office and calendar is not None else WALL
    state, amount = describe(ticket.due_at, now, ticket.paused_at, ticket.first_response_at,
                             span)
    if state is SlaState.ANSWERED:
        met = ticket.first_response_at is not None and ticket.first_response_at <= ticket.due_at
        return tr._("✅ answered in time") if met else tr._("⚠️ answered late")
    if state is SlaState.PAUSED:
        return tr._("⏸ paused, waiting for the resident ({left} left)").format(
            left=format_duration(amount, tr.locale))
    if state is SlaState.DUE:
        if office and calendar is not None:
            days = calendar.working_days_until(now, ticket.due_at)
            if days >= 1:
                return tr.ngettext("⏳ due in {n} working day", "⏳ due in {n} working days",
                                   days).format(n=tr.digits(days))
            return tr._("⏳ due in {left} of office time").format(
                left=format_duration(amount, tr.locale))
        return tr._("⏳ due in {left}").format(left=format_duration(amount, tr.locale))
    return tr._("🔴 overdue {late}").format(late=format_duration(amount, tr.locale))
