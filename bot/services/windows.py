"""Each ticket's own response window: which one it gets, how it is measured, its reminders.

The rules are pure (`bot.domain.sla`, `bot.domain.workcal`); this module only binds them to
the settings and the working calendar in `deps`, so every use case (filing, the sweep,
`/ask`, reopen, urgency, stats) measures a ticket on the same clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.deps import Deps
from bot.domain import sla
from bot.domain.models import Category, Ticket
from bot.domain.sla import ClockKind, Window
from bot.domain.workcal import Holiday, Span, holiday_moved


def category_window(category: Category | None) -> Window | None:
    if category is None or not category.window_hours:
        return None
    return Window(ClockKind(category.window_clock or "calendar"), category.window_hours)


def choose(deps: Deps, category: Category | None, *, urgent: bool) -> Window:
    settings = deps.settings
    return sla.choose_window(
        mode=ClockKind(settings.response_clock), calendar_hours=settings.response_window_hours,
        office_hours=settings.response_window_office_hours,
        urgent_hours=settings.urgent_window_hours, urgent=urgent,
        category=category_window(category))


def of_ticket(deps: Deps, ticket: Ticket) -> Window:
    """The window the ticket was given (tickets filed before the calendar: the 72 hours)."""
    return Window(ClockKind(ticket.sla_clock),
                  ticket.window_hours or deps.settings.response_window_hours)


def span(deps: Deps, ticket: Ticket) -> Span:
    return deps.span(ticket.sla_clock)


def reminders(deps: Deps, window: Window) -> tuple[float, ...]:
    """REMINDER_HOURS fitted to this window (on its own clock)."""
    return sla.reminder_offsets(window.hours, deps.settings.reminder_hours,
                                deps.settings.response_window_hours)


def ticket_reminders(deps: Deps, ticket: Ticket) -> tuple[float, ...]:
    return reminders(deps, of_ticket(deps, ticket))


def new_window(deps: Deps, window: Window, now: datetime) -> dict[str, Any]:
    """Columns of a fresh window starting now (filing)."""
    measure = deps.span(window.clock)
    due = sla.initial_due(now, window.hours, measure)
    return {"due_at": due, "sla_clock": window.clock.value, "window_hours": window.hours,
            "sla_next_at": sla.next_check(due, reminders(deps, window), now, measure)}


def reopen(deps: Deps, ticket: Ticket, now: datetime) -> dict[str, Any]:
    window = of_ticket(deps, ticket)
    return sla.on_reopen(ticket.window_no, window.hours, reminders(deps, window), now,
                         deps.span(window.clock))


def resume(deps: Deps, ticket: Ticket, now: datetime) -> dict[str, Any]:
    assert ticket.due_at is not None
    return sla.on_resume(ticket.paused_at, ticket.due_at, ticket.first_response_at,
                         ticket_reminders(deps, ticket), now, span(deps, ticket))


def change(deps: Deps, ticket: Ticket, window: Window, now: datetime) -> dict[str, Any]:
    """Urgency set or cleared: the due moment recomputed with the new window."""
    return sla.on_window_change(window, ticket.window_started_at, ticket.first_response_at,
                                ticket.paused_at, reminders(deps, window), now,
                                deps.span(window.clock))


def holidays_on_the_way(deps: Deps, ticket: Ticket) -> list[Holiday]:
    """Holidays that moved an office-time deadline later (named to the resident)."""
    if ticket.sla_clock != ClockKind.OFFICE.value:
        return []
    return [h for _day, h in holiday_moved(deps.calendar, ticket.window_started_at,
                                           ticket.due_at)]


def answered_in_time(ticket: Ticket) -> bool | None:
    """Within the ticket's own window (its due_at already is); None while unanswered."""
    if ticket.first_response_at is None:
        return None
    return ticket.first_response_at <= ticket.due_at


def office_left(deps: Deps, ticket: Ticket, now: datetime) -> timedelta:
    return span(deps, ticket).between(now, ticket.due_at)
