"""The 72-hour clock: pure functions of timestamps, no I/O (issue: SLA window).

due_at = window start + window; the first public staff answer meets it; waiting on the
resident pauses it (the paused time is added back); reopening starts a new window; a
transfer keeps the deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta


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

def on_public_reply(first_response_at: datetime | None, now: datetime) -> dict[str, object]:
    """The first public staff answer in a window meets the deadline: no more reminders."""
    if first_response_at is not None:
        return {}
    return {"first_response_at": now, "sla_next_at": None}


def on_pause(now: datetime) -> dict[str, object]:
    """Waiting for the resident: the clock stops, the sweep ignores the ticket."""
    return {"paused_at": now, "sla_next_at": None}


def on_resume(paused_at: datetime | None, due_at: datetime, first_response_at: datetime | None,
              reminder_hours: list[int], now: datetime) -> dict[str, object]:
    """The resident answered: the paused time is added back to the deadline."""
    if paused_at is None:
        return {}
    new_due = due_at + (now - paused_at)
    changes: dict[str, object] = {"paused_at": None, "due_at": new_due}
    if first_response_at is None:
        changes["sla_next_at"] = next_check(new_due, reminder_hours, now)
    return changes


def on_reopen(window_no: int, window_hours: int, reminder_hours: list[int], now: datetime
              ) -> dict[str, object]:
    """Reopening starts a fresh window with its own reminders and escalations."""
    due = initial_due(now, window_hours)
    return {"window_no": window_no + 1, "window_started_at": now, "due_at": due,
            "first_response_at": None, "paused_at": None, "closed_at": None,
            "close_reason": None, "sla_next_at": next_check(due, reminder_hours, now)}


def on_close(now: datetime) -> dict[str, object]:
    return {"closed_at": now, "sla_next_at": None, "paused_at": None}
