"""The SLA badge staff see on cards and in /queue: "due in 5 h", "overdue 3 h"..."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Ticket
from bot.domain.sla import SlaState, describe
from bot.domain.tickets import Status
from bot.i18n import Translator
from bot.ui.jalali import format_duration


def sla_badge(tr: Translator, ticket: Ticket, now: datetime) -> str:
    """One short line for cards and /queue lines."""
    if ticket.status is Status.CLOSED:
        return tr._("closed")
    state, amount = describe(ticket.due_at, now, ticket.paused_at, ticket.first_response_at)
    if state is SlaState.ANSWERED:
        met = ticket.first_response_at is not None and ticket.first_response_at <= ticket.due_at
        return tr._("✅ answered in time") if met else tr._("⚠️ answered late")
    if state is SlaState.PAUSED:
        return tr._("⏸ paused, waiting for the resident ({left} left)").format(
            left=format_duration(amount, tr.locale))
    if state is SlaState.DUE:
        return tr._("⏳ due in {left}").format(left=format_duration(amount, tr.locale))
    return tr._("🔴 overdue {late}").format(late=format_duration(amount, tr.locale))
