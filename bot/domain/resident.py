"""What the resident's use cases return for the screens to show (plain data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.forms import ResidentForm
from bot.domain.models import Category, House, Neighbourhood, Ticket, TicketEvent
from bot.domain.workcal import WALL, Span


@dataclass(frozen=True)
class Summary:
    """The filing form before «✅ Send», with the names it shows."""

    form: ResidentForm
    neighbourhood: Neighbourhood
    category: Category
    house: House


@dataclass(frozen=True)
class Late:
    """A request past its deadline without an answer, as its resident is told: since when,
    that it was reported (mayor and house supervisor; after `second` also the programme's
    admin), and by when they hear from us next (None: no new date is promised)."""

    due_at: datetime
    second: bool
    next_at: datetime | None


def lateness(ticket: Ticket, now: datetime, second_hours: float, span: Span = WALL,
             breach_at: datetime | None = None) -> Late | None:
    """The honest state of an open request whose deadline passed with no public answer
    (the SLA sweep escalates it at the deadline — `breach_at` when known — and again
    `second_hours` later on the ticket's clock `span`, and tells the resident each time)."""
    if not ticket.is_open or ticket.first_response_at is not None \
            or ticket.paused_at is not None or ticket.due_at > now:
        return None
    second_at = span.add(breach_at or ticket.due_at, timedelta(hours=second_hours))
    return Late(ticket.due_at, now >= second_at, second_at if now < second_at else None)


@dataclass(frozen=True)
class MyPage:
    """One page of the resident's requests, newest first, with what each line shows: the
    category (by ticket id) and the lateness of overdue ones."""

    items: list[Ticket]
    total: int
    page: int
    pages: int
    categories: dict[int, Category] = field(default_factory=dict)
    late: dict[int, Late] = field(default_factory=dict)


@dataclass(frozen=True)
class Detail:
    """One of the resident's requests with its public history."""

    ticket: Ticket
    history: list[TicketEvent]
    category: Category
    house: House
    files: int
    can_reopen: bool
    late: Late | None = None
