"""The resident's own requests: the list, one request with its public history, withdraw,
replies to relayed messages, rating and reopening; also who is writing and their language.

Each function takes `deps`, owns its transaction and returns domain results; refusals are
`Refused(N_(...))` (the texts the resident has always seen).
"""

from __future__ import annotations

from datetime import datetime

from bot.deps import Deps
from bot.domain import forms as steps
from bot.domain.forms import ResidentForm
from bot.domain.models import Ticket, TicketEvent
from bot.domain.resident import Detail, MyPage, lateness
from bot.domain.sla import BREACH
from bot.domain.tickets import Action, Status, allowed
from bot.i18n import N_
from bot.services import resident as conn_level
from bot.services import windows
from bot.services.errors import Refused
from bot.services.resident_forms import end_refused
from bot.services.tickets import AttachmentIn
from storage import forms, outbox, places
from storage import tickets as repo

PAGE = 5
EXPIRED = conn_level.EXPIRED
RELAY_CLOSED = N_("Request {code} is closed, so I could not add your message. Send a new "
                  "request if you still need help.")


# ------------------------------------------------------------------ lists and one request


async def my_page(deps: Deps, person_id: int, page: int) -> MyPage:
    page = max(page, 0)
    async with deps.db.read() as conn:
        # The page first: a short one (most residents' only page) tells the total without
        # counting; a full or empty one needs the count (and past the end, the last page).
        items = await repo.by_resident(conn, person_id, limit=PAGE, offset=page * PAGE)
        if 0 < len(items) < PAGE or (not items and page == 0):
            total = page * PAGE + len(items)
        else:
            total = await repo.count_by_resident(conn, person_id)
        pages = max(1, (total + PAGE - 1) // PAGE)
        if page > pages - 1:
            page = pages - 1
            items = await repo.by_resident(conn, person_id, limit=PAGE, offset=page * PAGE)
        categories = {t.id: c for t in items
                      if (c := await places.category(conn, t.category_id)) is not None}
    now, hours = deps.clock.now(), deps.settings.second_escalation_hours
    late = {t.id: found for t in items
            if (found := lateness(t, now, hours, windows.span(deps, t))) is not None}
    return MyPage(items, total, page, pages, categories, late)


async def _detail(deps: Deps, ticket: Ticket | None) -> Detail | None:
    if ticket is None:
        return None
    async with deps.db.read() as conn:
        history = await repo.events(conn, ticket.id, public_only=True)
        category = await places.category(conn, ticket.category_id)
        house = await places.house(conn, ticket.house_id)
        files = await repo.attachment_count(conn, ticket.id)
    assert category is not None and house is not None
    return Detail(ticket, history, category, house, files,
                  conn_level.can_reopen(deps, ticket),
                  lateness(ticket, deps.clock.now(), deps.settings.second_escalation_hours,
                           windows.span(deps, ticket), _breach_at(ticket, history)))


def _breach_at(ticket: Ticket, history: list[TicketEvent]) -> datetime | None:
    """When the sweep reported the missed deadline of the current window (its public event)."""
    found = [e.at for e in history if e.action == Action.SLA
             and e.details.get("sla") == BREACH
             and e.details.get("window", ticket.window_no) == ticket.window_no]
    return found[-1] if found else None


async def owned(deps: Deps, person_id: int, ticket_id: int) -> Ticket:
    """One of the resident's requests; others' look like a stale menu."""
    async with deps.db.read() as conn:
        ticket = await conn_level.owned_ticket(conn, ticket_id, person_id)
    if ticket is None:
        raise Refused(EXPIRED)
    return ticket


async def detail(deps: Deps, person_id: int, ticket_id: int) -> Detail:
    found = await _detail(deps, await owned(deps, person_id, ticket_id))
    assert found is not None
    return found


async def detail_by_code(deps: Deps, person_id: int, code: str) -> Detail | None:
    """/status CODE: None when the resident has no request with that code."""
    async with deps.db.read() as conn:
        ticket = await conn_level.owned_by_code(conn, code, person_id)
    return await _detail(deps, ticket)


async def withdraw(deps: Deps, person_id: int, ticket_id: int) -> Ticket:
    async with deps.db.tx() as conn:
        ticket = await conn_level.owned_ticket(conn, ticket_id, person_id)
        if ticket is None:
            raise Refused(EXPIRED)
        return await conn_level.withdraw(conn, deps, ticket, person_id)


# ------------------------------------------------------------------ a reply to a relayed message


async def relay(deps: Deps, person_id: int, chat_id: int, reply_to: int, body: str,
                attachment: AttachmentIn | None) -> Ticket | None:
    """A Telegram reply to a message about a ticket joins that ticket (None: the message is
    about no ticket of this resident)."""
    async with deps.db.tx() as conn:
        ticket_id = await outbox.ticket_for_message(conn, chat_id, reply_to)
        ticket = await conn_level.owned_ticket(conn, ticket_id, person_id) \
            if ticket_id is not None else None
        if ticket is None:
            return None
        if not allowed(ticket.status, Action.RESIDENT_MESSAGE):
            code = ticket.code
        else:
            return await conn_level.add_resident_message(
                conn, deps, ticket, person_id, body, [attachment] if attachment else [])
    raise Refused(RELAY_CLOSED, code=code)


# ------------------------------------------------------------------ rating and reopening


async def rate(deps: Deps, person_id: int, chat_id: int, ticket_id: int, stars: int) -> Ticket:
    """Stars after closure; a form then waits for an optional comment."""
    try:
        async with deps.db.tx() as conn:
            ticket = await conn_level.owned_ticket(conn, ticket_id, person_id)
            if ticket is None:
                raise Refused(EXPIRED)
            ticket = await conn_level.rate(conn, deps, ticket, person_id, stars)
            now = deps.clock.now()
            await forms.put(conn, ResidentForm(
                person_id=person_id, chat_id=chat_id, mode="rate", step=steps.RATE_COMMENT,
                ticket_id=ticket.id, started_at=now, at=now), now)
            return ticket
    except Refused as exc:
        await end_refused(deps, person_id, exc)


async def rate_comment(deps: Deps, form: ResidentForm, comment: str) -> None:
    async with deps.db.tx() as conn:
        ticket = await conn_level.owned_ticket(conn, form.ticket_id or 0, form.person_id)
        if ticket is not None:
            await conn_level.rate_comment(conn, deps, ticket, form.person_id, comment)
        await forms.delete(conn, form.person_id)


class ReopenTooLate(Refused):
    """Closed more than `days` ago (the text shows the number in the reader's digits)."""

    def __init__(self, code: str, days: int) -> None:
        super().__init__("", code=code)
        self.days = days


async def start_reopen(deps: Deps, person_id: int, chat_id: int, ticket_id: int) -> Ticket:
    """«❌ Not resolved»: a form waits for the reason."""
    too_late: bool | None     # None: not the resident's closed request
    async with deps.db.tx() as conn:
        ticket = await conn_level.owned_ticket(conn, ticket_id, person_id)
        if ticket is None or ticket.status is not Status.CLOSED:
            await forms.delete(conn, person_id)
            too_late = None
        elif not conn_level.can_reopen(deps, ticket):
            await forms.delete(conn, person_id)
            too_late = True
        else:
            too_late = False
            now: datetime = deps.clock.now()
            await forms.put(conn, ResidentForm(
                person_id=person_id, chat_id=chat_id, mode="reopen", step=steps.REOPEN_REASON,
                ticket_id=ticket.id, code=ticket.code, started_at=now, at=now), now)
    if too_late is None:
        raise Refused(EXPIRED)
    if too_late:
        assert ticket is not None
        raise ReopenTooLate(ticket.code, deps.settings.reopen_days)
    assert ticket is not None
    return ticket


async def reopen(deps: Deps, form: ResidentForm, reason: str) -> Ticket | None:
    """The reason given: the request is open again (None: it is no longer the resident's)."""
    async with deps.db.tx() as conn:
        await forms.delete(conn, form.person_id)
        ticket = await conn_level.owned_ticket(conn, form.ticket_id or 0, form.person_id)
        if ticket is None:
            return None
        refused = not conn_level.can_reopen(deps, ticket)
        if not refused:
            return await conn_level.reopen(conn, deps, ticket, form.person_id, reason)
    raise Refused(conn_level.TOO_LATE)
