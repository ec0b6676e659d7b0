"""The 72-hour clock: pure functions of timestamps, no I/O (issue: SLA window).

due_at = window start + window; the first public staff answer meets it; waiting on the
resident pauses it (the paused time is added back); reopening starts a new window; a
transfer keeps the deadline.

Every measure against the window goes through a `Span` (`bot.domain.workcal`): wall time
(`WALL`, the default: the programme's 72-hour promise) or office time (a `WorkCalendar`:
only office hours count). The deadline, the reminders ("6 office hours left"), the second
escalation and the time added back after `/ask` all use the ticket's own span.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.workcal import WALL, Span


class ClockKind(StrEnum):
    CALENDAR = "calendar"   # wall time: the programme's promise (RESPONSE_WINDOW_HOURS)
    OFFICE = "office"       # only office hours count (RESPONSE_WINDOW_OFFICE_HOURS)


@dataclass(frozen=True)
class Window:
    """A ticket's own response window: how long, measured on which clock."""

    clock: ClockKind
    hours: int


def choose_window(*, mode: ClockKind, calendar_hours: int, office_hours: int,
                  urgent_hours: int, urgent: bool, category: Window | None = None) -> Window:
    """The window a request gets: urgent requests get the urgent window (calendar time,
    people are at risk) unless their category's calendar window is shorter; a category with
    its own window keeps it; otherwise the deployment's mode decides."""
    if urgent:
        if (category is not None and category.clock is ClockKind.CALENDAR
                and category.hours < urgent_hours):
            return category
        return Window(ClockKind.CALENDAR, urgent_hours)
    if category is not None:
        return category
    if mode is ClockKind.OFFICE:
        return Window(ClockKind.OFFICE, office_hours)
    return Window(ClockKind.CALENDAR, calendar_hours)


MIN_REMINDER_HOURS = 0.25


def reminder_offsets(window_hours: float, reminder_hours: Sequence[float],
                     reference_hours: float) -> tuple[float, ...]:
    """Reminder offsets (hours before the deadline) that fit the window, largest first.

    REMINDER_HOURS are written for the programme's window (`reference_hours`, 72). An offset
    that does not fit a shorter window (offset >= window) is scaled to the same fraction of
    this window (24 of 72 -> a third); one that still does not fit, that lands on another or
    that would come less than 15 minutes before the deadline is skipped. So a reminder is never
    due at filing time."""
    result: list[float] = []
    for hours in sorted({h for h in reminder_hours if h > 0}, reverse=True):
        if hours >= window_hours and reference_hours > window_hours:
            hours = round(hours * window_hours / reference_hours, 2)
        if MIN_REMINDER_HOURS <= hours < window_hours and hours not in result:
            result.append(hours)
    return tuple(sorted(result, reverse=True))


def _hours(value: float) -> timedelta:
    return timedelta(hours=value)


def initial_due(start: datetime, window_hours: float, span: Span = WALL) -> datetime:
    return span.add(start, _hours(window_hours))


def next_check(due_at: datetime, reminder_hours: Sequence[float], now: datetime,
               span: Span = WALL) -> datetime:
    """When the SLA sweep should next look at a fresh ticket: the earliest reminder still ahead,
    else the deadline itself."""
    for hours in sorted(reminder_hours, reverse=True):
        moment = span.sub(due_at, _hours(hours))
        if moment > now:
            return moment
    return due_at


# Column changes for each SLA event; services pass them to `bot.services.tickets.apply(**...)`.
# Keeping them here means the clock rules live in one place.

def on_public_reply(first_response_at: datetime | None, now: datetime) -> dict[str, Any]:
    """The first public staff answer in a window meets the deadline: no more reminders."""
    if first_response_at is not None:
        return {}
    return {"first_response_at": now, "sla_next_at": None}


def on_pause(now: datetime) -> dict[str, Any]:
    """Waiting for the resident: the clock stops, the sweep ignores the ticket."""
    return {"paused_at": now, "sla_next_at": None}


def on_resume(paused_at: datetime | None, due_at: datetime, first_response_at: datetime | None,
              reminder_hours: Sequence[float], now: datetime, span: Span = WALL
              ) -> dict[str, Any]:
    """The resident answered: the paused time (measured on the ticket's clock: office time in
    office mode) is added back to the deadline."""
    if paused_at is None:
        return {}
    new_due = span.add(due_at, span.between(paused_at, now))
    changes: dict[str, Any] = {"paused_at": None, "due_at": new_due}
    if first_response_at is None:
        changes["sla_next_at"] = next_check(new_due, reminder_hours, now, span)
    return changes


def on_reopen(window_no: int, window_hours: float, reminder_hours: Sequence[float],
              now: datetime, span: Span = WALL) -> dict[str, Any]:
    """Reopening starts a fresh window with its own reminders and escalations."""
    due = initial_due(now, window_hours, span)
    return {"window_no": window_no + 1, "window_started_at": now, "due_at": due,
            "first_response_at": None, "paused_at": None, "closed_at": None,
            "close_reason": None, "sla_next_at": next_check(due, reminder_hours, now, span)}


def on_window_change(window: Window, window_started_at: datetime, first_response_at:
                     datetime | None, paused_at: datetime | None, reminder_hours:
                     Sequence[float], now: datetime, span: Span = WALL) -> dict[str, Any]:
    """The mayor set or cleared urgency: the due moment is recomputed from the window's start
    with the new window (time paused so far is not counted)."""
    due = initial_due(window_started_at, window.hours, span)
    if paused_at is not None:
        due = span.add(due, span.between(paused_at, now))
    changes: dict[str, Any] = {"due_at": due, "sla_clock": window.clock.value,
                               "window_hours": window.hours}
    if first_response_at is None and paused_at is None:
        changes["sla_next_at"] = next_check(due, reminder_hours, now, span)
    return changes


def on_close(now: datetime) -> dict[str, Any]:
    return {"closed_at": now, "sla_next_at": None, "paused_at": None}


def on_transfer() -> dict[str, Any]:
    """A transfer to another house keeps the deadline: the resident has waited already."""
    return {}


# --------------------------------------------------------------------------- the sweep's plan

REMIND = "remind"
BREACH = "breach"
ESCALATE2 = "escalate2"


def remind_action(hours: float) -> str:
    """`remind_24`; a scaled fraction of an hour is named in minutes (`remind_80m`)."""
    if float(hours).is_integer():
        return f"{REMIND}_{int(hours)}"
    return f"{REMIND}_{round(hours * 60)}m"


@dataclass(frozen=True)
class Plan:
    """What the sweep does for one ticket now, and when it must look again (None = never)."""

    actions: tuple[str, ...]
    next_at: datetime | None
    skipped: tuple[str, ...] = ()


def due_actions(due_at: datetime, now: datetime, *, paused_at: datetime | None,
                first_response_at: datetime | None, closed: bool,
                reminder_hours: Sequence[float], second_escalation_hours: float,
                done: Mapping[str, datetime], span: Span = WALL) -> Plan:
    """Decide reminders and escalations from the clock alone.

    Catch-up rules (after downtime): a reminder is skipped when the next moment (the next
    reminder or the deadline) has also passed, so no burst of stale reminders; the breach is
    never skipped, so an overdue ticket escalates exactly once; the second escalation comes
    `second_escalation_hours` after the first one was actually sent.
    """
    if closed or paused_at is not None or first_response_at is not None:
        return Plan((), None)
    moments: list[tuple[str, datetime]] = [
        (remind_action(h), span.sub(due_at, _hours(h)))
        for h in sorted(set(reminder_hours), reverse=True) if h > 0]
    moments.append((BREACH, due_at))
    actions: list[str] = []
    skipped: list[str] = []
    future: list[datetime] = []
    for index, (action, moment) in enumerate(moments):
        if action in done:
            continue
        if moment > now:
            future.append(moment)
            continue
        successor = moments[index + 1][1] if index + 1 < len(moments) else None
        if action != BREACH and successor is not None and successor <= now:
            skipped.append(action)
        else:
            actions.append(action)
    breach_at = done.get(BREACH) or (now if BREACH in actions else None)
    if breach_at is not None and ESCALATE2 not in done:
        second = span.add(breach_at, _hours(second_escalation_hours))
        if second <= now:
            actions.append(ESCALATE2)
        else:
            future.append(second)
    return Plan(tuple(actions), min(future) if future else None, tuple(skipped))


class SlaState(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    PAUSED = "paused"
    ANSWERED = "answered"


def describe(due_at: datetime, now: datetime, paused_at: datetime | None,
             first_response_at: datetime | None, span: Span = WALL
             ) -> tuple[SlaState, timedelta]:
    """What a staff card shows: time left, time over, or why the clock is not running.

    While paused the time left is frozen at the moment of the pause. Time left is measured on
    the ticket's clock (office hours left in office mode); time over is wall time."""
    if first_response_at is not None:
        return SlaState.ANSWERED, timedelta()
    if paused_at is not None:
        return SlaState.PAUSED, max(span.between(paused_at, due_at), timedelta())
    if due_at > now:
        return SlaState.DUE, span.between(now, due_at)
    return SlaState.OVERDUE, now - due_at
