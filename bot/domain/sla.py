"""The 72-hour clock: pure functions of timestamps, no I/O (issue: SLA window).

due_at = window start + window; the first public staff answer meets it; waiting on the
resident pauses it (the paused time is added back); reopening starts a new window; a
transfer keeps the deadline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


def initial_due(start: datetime, window_hours: int) -> datetime:
    return start + timedelta(hours=window_hours)


def next_check(due_at: datetime, reminder_hours: list[int], now: datetime) -> datetime:
    """When the SLA sweep should next look at a fresh ticket: the earliest reminder still ahead,
    else the deadline itself."""
    for hours in sorted(reminder_hours, reverse=True):
        moment = due_at - timedelta(hours=hours)
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
              reminder_hours: list[int], now: datetime) -> dict[str, Any]:
    """The resident answered: the paused time is added back to the deadline."""
    if paused_at is None:
        return {}
    new_due = due_at + (now - paused_at)
    changes: dict[str, Any] = {"paused_at": None, "due_at": new_due}
    if first_response_at is None:
        changes["sla_next_at"] = next_check(new_due, reminder_hours, now)
    return changes


def on_reopen(window_no: int, window_hours: int, reminder_hours: list[int], now: datetime
              ) -> dict[str, Any]:
    """Reopening starts a fresh window with its own reminders and escalations."""
    due = initial_due(now, window_hours)
    return {"window_no": window_no + 1, "window_started_at": now, "due_at": due,
            "first_response_at": None, "paused_at": None, "closed_at": None,
            "close_reason": None, "sla_next_at": next_check(due, reminder_hours, now)}


def on_close(now: datetime) -> dict[str, Any]:
    return {"closed_at": now, "sla_next_at": None, "paused_at": None}


def on_transfer() -> dict[str, Any]:
    """A transfer to another house keeps the deadline: the resident has waited already."""
    return {}


# --------------------------------------------------------------------------- the sweep's plan

REMIND = "remind"
BREACH = "breach"
ESCALATE2 = "escalate2"


def remind_action(hours: int) -> str:
    return f"{REMIND}_{hours}"


@dataclass(frozen=True)
class Plan:
    """What the sweep does for one ticket now, and when it must look again (None = never)."""

    actions: tuple[str, ...]
    next_at: datetime | None
    skipped: tuple[str, ...] = ()


def due_actions(due_at: datetime, now: datetime, *, paused_at: datetime | None,
                first_response_at: datetime | None, closed: bool, reminder_hours: list[int],
                second_escalation_hours: int, done: Mapping[str, datetime]) -> Plan:
    """Decide reminders and escalations from the clock alone.

    Catch-up rules (after downtime): a reminder is skipped when the next moment (the next
    reminder or the deadline) has also passed, so no burst of stale reminders; the breach is
    never skipped, so an overdue ticket escalates exactly once; the second escalation comes
    `second_escalation_hours` after the first one was actually sent.
    """
    if closed or paused_at is not None or first_response_at is not None:
        return Plan((), None)
    moments: list[tuple[str, datetime]] = [
        (remind_action(h), due_at - timedelta(hours=h))
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
        second = breach_at + timedelta(hours=second_escalation_hours)
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
             first_response_at: datetime | None) -> tuple[SlaState, timedelta]:
    """What a staff card shows: time left, time over, or why the clock is not running.

    While paused the time left is frozen at the moment of the pause."""
    if first_response_at is not None:
        return SlaState.ANSWERED, timedelta()
    if paused_at is not None:
        return SlaState.PAUSED, max(due_at - paused_at, timedelta())
    if due_at > now:
        return SlaState.DUE, due_at - now
    return SlaState.OVERDUE, now - due_at
