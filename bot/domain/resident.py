"""What the resident's use cases return for the screens to show (plain data)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.forms import ResidentForm
from bot.domain.models import Category, House, Neighbourhood, Ticket, TicketEvent


@dataclass(frozen=True)
class Summary:
    """The filing form before «✅ Send», with the names it shows."""

    form: ResidentForm
    neighbourhood: Neighbourhood
    category: Category
    house: House


@dataclass(frozen=True)
class MyPage:
    """One page of the resident's requests, newest first."""

    items: list[Ticket]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class Detail:
    """One of the resident's requests with its public history."""

    ticket: Ticket
    history: list[TicketEvent]
    category: Category
    house: House
    files: int
    can_reopen: bool
