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
