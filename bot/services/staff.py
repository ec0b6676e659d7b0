"""Use-cases of mayors and house staff: every change re-reads the ticket inside one
transaction, checks scope and the state machine, records the event via `apply`, tells the
resident through the outbox and announces to a new house when it moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.deps import Deps
from bot.domain import sla
from bot.domain.limits import parse_int
from bot.domain.models import (
    Attachment,
    Category,
    House,
    Neighbourhood,
    Role,
    Ticket,
    TicketEvent,
)
from bot.domain.notices import NoticeKind, when
from bot.domain.text import normalize, normalize_tracking_code, to_ascii_digits
from bot.domain.tickets import Action, CloseReason, Status, TransitionError
from bot.domain.workcal import WorkCalendar
from bot.i18n import N_
from bot.services import windows
from bot.services.errors import NotFound, Refused
from bot.services.houses import match_house, split_house
from bot.services.resident import notify_resident
from bot.services.roles import Scope, scope_for
from bot.services.tickets import Actor, announce, apply
from storage import people, places, visits
from storage import staff_queries as q
from storage import tickets as repo
from storage.conn import Conn
from storage.staff_queries import CannedReply as CannedReply

PAGE = 8
SEARCH_LIMIT = 10
SEARCH_DAYS = 365


@dataclass(frozen=True)
class Ref:
    """A ticket as the user named it: by tracking code (typed) or id (button)."""

    code: str | None = None
    ticket_id: int | None = None

    @classmethod
    def parse(cls, text: str) -> Ref:
        return cls(code=normalize_tracking_code(text))

    @property
    def shown(self) -> str:
        return self.code or ""


def _actor(scope: Scope) -> Actor:
    return Actor(scope.person_id, scope.role)


async def find(conn: Conn, scope: Scope, ref: Ref, *, need: str = "any"
               ) -> Ticket:
    """`need`: "staff" (house work), "mayor" (triage) or "any" (read)."""
    areas = {"staff": scope.staff_areas, "mayor": scope.mayor_areas}.get(need, scope.areas)
    ticket = await q.ticket_in_scope(conn, areas, ticket_id=ref.ticket_id, code=ref.code)
    if ticket is None:
        raise NotFound(ref.shown)
    return ticket


def _covers(areas: list[q.Area], ticket: Ticket) -> bool:
    return any((a.house_id is None or a.house_id == ticket.house_id)
               and (a.neighbourhood_ids is None or ticket.neighbourhood_id in a.neighbourhood_ids)
               for a in areas)


def _apply_or_refuse(exc: TransitionError) -> Refused:
    return Refused(N_("This can't be done while the request is «{status}»."),
                   status=exc.status.value)


# ---------------------------------------------------------------------------- resident notes

# ---------------------------------------------------------------------------- actions

async def take(deps: Deps, scope: Scope, ref: Ref) -> tuple[Ticket, bool]:
    """Check-and-set in one transaction: (ticket, True) when this person got it."""
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need="staff")
        if ticket.assignee_id == scope.person_id:
            return ticket, False
        if ticket.assignee_id is not None:
            holder = await people.get(conn, ticket.assignee_id)
            raise Refused(N_("{code} is already taken by {name}."), code=ticket.code,
                          name=holder.first_name if holder else "?")
        try:
            ticket, event_id = await apply(conn, deps, ticket, Action.TAKE, _actor(scope),
                                           assignee_id=scope.person_id)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        await notify_resident(conn, deps, ticket, event_id, "status", NoticeKind.TAKEN)
        return ticket, True


@dataclass(frozen=True)
class StaffMedia:
    """A photo, voice note, video or file a staff member sent as their answer: the resident
    gets a copy of that message (copyMessage, never a forward: the sender stays hidden)."""

    kind: str
    file_id: str
    file_unique_id: str | None
    chat_id: int
    message_id: int


async def reply(deps: Deps, scope: Scope, ref: Ref, text: str,
                media: StaffMedia | None = None) -> Ticket:
    """A public answer: relayed with the ticket id so the resident can reply back; the first
    one in a window meets the deadline. With `media` the text is its caption (may be empty)."""
    text = text.strip()
    if not text and media is None:
        raise Refused(N_("Please write the text of the answer after the code."))
    return await _message_resident(
        deps, scope, ref, Action.REPLY, text,
        lambda t: sla.on_public_reply(t.first_response_at, deps.clock.now()), media=media)


async def ask(deps: Deps, scope: Scope, ref: Ref, question: str) -> Ticket:
    """A question to the resident: the 72-hour clock pauses until they answer."""
    question = question.strip()
    if not question:
        raise Refused(N_("Please write the question after the code."))
    return await _message_resident(
        deps, scope, ref, Action.ASK, question, lambda _t: sla.on_pause(deps.clock.now()))


async def _message_resident(deps: Deps, scope: Scope, ref: Ref, action: Action, text: str,
                            sla_changes: Callable[[Ticket], dict[str, Any]], *,
                            media: StaffMedia | None = None) -> Ticket:
    """A public staff message (answer or question): whoever writes first owns the ticket."""
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need="staff")
        changes: dict[str, Any] = dict(sla_changes(ticket))
        if ticket.assignee_id is None:
            changes["assignee_id"] = scope.person_id
        try:
            ticket, event_id = await apply(
                conn, deps, ticket, action, _actor(scope), body=text or None,
                details={"attachments": 1} if media else None, **changes)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        if media is not None:
            await repo.add_attachment(conn, ticket_id=ticket.id, event_id=event_id,
                                      kind=media.kind, file_id=media.file_id,
                                      file_unique_id=media.file_unique_id,
                                      caption=text or None, now=deps.clock.now())
            await notify_resident(conn, deps, ticket, event_id, action.value,
                                  NoticeKind.ANSWER_COPY, text=text,
                                  copy_from=[media.chat_id, media.message_id])
        else:
            await notify_resident(
                conn, deps, ticket, event_id, action.value,
                NoticeKind.ANSWER if action is Action.REPLY else NoticeKind.QUESTION, text=text)
        return ticket


async def note(deps: Deps, scope: Scope, ref: Ref, text: str) -> Ticket:
    """Internal: public=False, so it never reaches the resident's history."""
    text = text.strip()
    if not text:
        raise Refused(N_("Please write the note after the code."))
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need="any")
        ticket, _ = await apply(conn, deps, ticket, Action.NOTE, _actor(scope), body=text,
                                public=False)
        return ticket


async def set_urgency(deps: Deps, scope: Scope, ref: Ref, reason: str | None) -> Ticket:
    """The mayor marks a request urgent with a reason (None: not urgent any more). The due
    moment is recomputed from the window's start with the new window (urgent: calendar time,
    URGENT_WINDOW_HOURS) and the resident is told the new moment."""
    urgent = reason is not None
    reason = reason.strip() if reason is not None else None
    if urgent and not reason:
        raise Refused(N_("Please write the reason after the code."))
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need="mayor")
        if ticket.urgent == urgent:
            return ticket
        window = windows.choose(deps, await places.category(conn, ticket.category_id),
                                urgent=urgent)
        changes = windows.change(deps, ticket, window, deps.clock.now())
        try:
            ticket, event_id = await apply(
                conn, deps, ticket, Action.URGENCY, _actor(scope), body=reason,
                details={"urgent": urgent}, urgent=urgent, urgent_reason=reason, **changes)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        await notify_resident(conn, deps, ticket, event_id, "status", NoticeKind.URGENCY,
                              due=when(ticket.due_at), urgent=urgent)
        return ticket


async def move(deps: Deps, scope: Scope, ref: Ref, house_code: str, reason: str, *,
               action: Action) -> Ticket:
    """TRANSFER (staff) or ROUTE (mayor) to another house; the deadline stays. The house is
    its code or name (`bot.services.houses`); `house_code` "" means `reason` starts with it
    (a typed command: «/route CODE خانه امداد reason»)."""
    async with deps.db.tx() as conn:
        if house_code.strip():
            house = match_house(await places.houses(conn), house_code)
        else:
            house, reason = await split_house(conn, reason)
            house_code = reason.split()[0] if reason.split() else ""
        if house is None:
            raise Refused(N_("Unknown house «{house}». Use one of: {houses}"), house=house_code,
                          houses=", ".join(h.code for h in await places.houses(conn)))
        reason = reason.strip()
        if not reason:
            raise Refused(N_("Please write the reason after the house."))
        ticket = await find(conn, scope, ref,
                            need="mayor" if action is Action.ROUTE else "staff")
        if house.id == ticket.house_id:
            raise Refused(N_("{code} is already with this house."), code=ticket.code)
        old_house = ticket.house_id
        try:
            ticket, event_id = await apply(
                conn, deps, ticket, action, _actor(scope), body=reason, public=False,
                details={"from_house": ticket.house_id, "to_house": house.id},
                house_id=house.id, assignee_id=None)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        await notify_resident(conn, deps, ticket, event_id, "status", NoticeKind.MOVED,
                              from_house_id=old_house, to_house_id=house.id)
        await announce(conn, deps, ticket, reason=action.value, key_suffix=f":{event_id}",
                       skip=scope.person_id)
        return ticket


async def close(deps: Deps, scope: Scope, ref: Ref, reason: CloseReason, message: str, *,
                duplicate_code: str | None = None, need: str = "staff") -> Ticket:
    """Close with an honest reason and a required public message to the resident."""
    message = message.strip()
    if reason is CloseReason.WITHDRAWN:
        raise Refused(N_("Only the resident can withdraw a request."))
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need=need)
        changes: dict[str, Any] = {"close_reason": reason}
        original: Ticket | None = None
        if reason is CloseReason.DUPLICATE:
            if not duplicate_code:
                raise Refused(N_("Write the code of the original request: "
                                 "/close CODE duplicate ORIGINAL message"))
            try:
                original = await find(conn, scope, Ref.parse(duplicate_code), need="any")
            except NotFound:
                raise Refused(N_("No request with code {code} was found."),
                              code=normalize_tracking_code(duplicate_code)) from None
            if original.id == ticket.id:
                raise Refused(N_("A request cannot be a duplicate of itself."))
            changes["duplicate_of"] = original.id
        elif not message:
            raise Refused(N_("Please write a message for the resident; it is required when "
                             "closing."))
        now = deps.clock.now()
        changes.update(sla.on_public_reply(ticket.first_response_at, now))
        changes.update(sla.on_close(now))
        try:
            ticket, event_id = await apply(
                conn, deps, ticket, Action.CLOSE, _actor(scope), body=message or None,
                details={"reason": reason.value,
                         **({"duplicate_of": original.code} if original else {})},
                **changes)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        await notify_resident(conn, deps, ticket, event_id, "close", NoticeKind.CLOSED,
                              closing=True, reason=reason.value,
                              original=original.code if original else None, message=message)
        return ticket


async def reopen(deps: Deps, scope: Scope, ref: Ref) -> Ticket:
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need="staff")
        changes: dict[str, Any] = windows.reopen(deps, ticket, deps.clock.now())
        try:
            ticket, event_id = await apply(conn, deps, ticket, Action.REOPEN, _actor(scope),
                                           reopen_count=ticket.reopen_count + 1, **changes)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        await notify_resident(conn, deps, ticket, event_id, "status", NoticeKind.REOPENED,
                              due=when(ticket.due_at))
        return ticket


async def use_template(deps: Deps, scope: Scope, ref: Ref, template_id: int) -> Ticket:
    async with deps.db.read() as conn:
        template = await q.canned_reply(conn, template_id)
    if template is None or (template.house_id is not None and not scope.admin
                            and template.house_id not in scope.house_ids):
        raise Refused(N_("That template does not exist."))
    return await reply(deps, scope, ref, template.body)


async def expand_template(deps: Deps, scope: Scope, text: str) -> str:
    """`#3 more words` → body of template 3 followed by the words (insert into a reply)."""
    head, _, rest = text.strip().partition(" ")
    number = parse_int(head) if head.startswith("#") else None
    if number is None:
        return text
    async with deps.db.read() as conn:
        template = await q.canned_reply(conn, number)
    if template is None or (template.house_id is not None and not scope.admin
                            and template.house_id not in scope.house_ids):
        raise Refused(N_("That template does not exist."))
    return (template.body + ("\n" + rest if rest.strip() else "")).strip()


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class EventView:
    """One history line's facts: the event, who did it and where a move went."""

    event: TicketEvent
    actor_name: str = ""
    to_house: House | None = None


@dataclass(frozen=True)
class CardView:
    """Everything a ticket card shows, read in one transaction (`bot.ui.cards` renders it)."""

    ticket: Ticket
    neighbourhood: Neighbourhood
    house: House
    category: Category
    now: datetime
    assignee_name: str | None = None     # None: nobody has taken it; "?" an unknown person
    duplicate_code: str | None = None
    unreachable: bool = False
    attachments: int = 0
    phone_visible: bool = False
    events: list[EventView] | None = None    # None: the history was not asked for
    visit: tuple[str, str] | None = None     # filed at a field visit: (its title, for whom)
    calendar: WorkCalendar | None = None     # office-time tickets: "due in 2 working days"
    route_reason: str | None = None      # why the mayor sent it to this house (last re-route)
    reopen_reason: str | None = None     # what the resident said when reopening (last reopen)

    @property
    def located(self) -> bool:
        return self.ticket.lat is not None and self.ticket.lon is not None

    @property
    def has_files(self) -> bool:
        """Whether the card offers the attachments button (files or a location)."""
        return self.attachments > 0 or self.located


async def _card_view(conn: Conn, deps: Deps, scope: Scope, ticket: Ticket, *,
                     history: bool) -> CardView:
    n = await places.neighbourhood(conn, ticket.neighbourhood_id)
    house = await places.house(conn, ticket.house_id)
    cat = await places.category(conn, ticket.category_id)
    assert n and house and cat
    assignee = None
    if ticket.assignee_id is not None:
        holder = await people.get(conn, ticket.assignee_id)
        assignee = holder.first_name if holder else "?"
    duplicate = None
    if ticket.duplicate_of is not None:
        original = await repo.get(conn, ticket.duplicate_of)
        duplicate = original.code if original else None
    rows = await repo.events(conn, ticket.id, public_only=False)
    events = [await _event_view(conn, e) for e in rows] if history else None
    routes = [e.body for e in rows if e.action == Action.ROUTE and e.body]
    reopens = [e.body for e in rows if e.action == Action.REOPEN and e.body
               and e.actor_role == "resident"]
    return CardView(
        ticket=ticket, neighbourhood=n, house=house, category=cat, now=deps.clock.now(),
        assignee_name=assignee, duplicate_code=duplicate,
        unreachable=await people.is_unreachable(conn, ticket.resident_id),
        attachments=await repo.attachment_count(conn, ticket.id),
        phone_visible=bool(ticket.phone) and _covers(scope.staff_areas, ticket),
        events=events, calendar=deps.calendar, visit=await _visit_tag(conn, ticket.id),
        route_reason=routes[-1] if routes else None,
        reopen_reason=reopens[-1] if reopens and ticket.is_open else None)


async def _visit_tag(conn: Conn, ticket_id: int) -> tuple[str, str] | None:
    found = (await visits.tags(conn, [ticket_id])).get(ticket_id)
    return (found[1], found[2]) if found else None


async def _event_view(conn: Conn, event: TicketEvent) -> EventView:
    who = ""
    if event.actor_id is not None:
        person = await people.get(conn, event.actor_id)
        who = person.first_name if person else ""
    to_house = None
    if event.action in (Action.TRANSFER, Action.ROUTE) and "to_house" in event.details:
        to_house = await places.house(conn, int(event.details["to_house"]))
    return EventView(event, who, to_house)


async def show(deps: Deps, scope: Scope, ref: Ref, *, history: bool = True) -> CardView:
    """The card of a ticket in this person's scope (NotFound otherwise)."""
    async with deps.db.read() as conn:
        ticket = await find(conn, scope, ref)
        return await _card_view(conn, deps, scope, ticket, history=history)


async def in_scope(deps: Deps, scope: Scope, ref: Ref, *, need: str = "any") -> Ticket:
    """Only the scope check: the ticket, or NotFound."""
    async with deps.db.read() as conn:
        return await find(conn, scope, ref, need=need)


async def files(deps: Deps, scope: Scope, ref: Ref) -> tuple[Ticket, list[Attachment]]:
    """Files of the ticket (filing and later resident messages), after the same scope check
    as `show`: out of scope is NotFound."""
    async with deps.db.read() as conn:
        ticket = await find(conn, scope, ref)
        return ticket, await repo.attachments(conn, ticket.id)


QUEUE_FILTERS = ("all", "mine", "unassigned", "overdue")


@dataclass(frozen=True)
class ListItem:
    """A line of a queue or a search result."""

    ticket: Ticket
    neighbourhood: Neighbourhood | None


@dataclass(frozen=True)
class ListView:
    items: list[ListItem]
    total: int
    now: datetime
    calendar: WorkCalendar | None = None

    @property
    def tickets(self) -> list[Ticket]:
        return [i.ticket for i in self.items]


async def _items(conn: Conn, tickets: list[Ticket]) -> list[ListItem]:
    return [ListItem(t, await places.neighbourhood(conn, t.neighbourhood_id)) for t in tickets]


async def _queue(conn: Conn, deps: Deps, scope: Scope, kind: str, page: int,
                 inbox: bool) -> tuple[list[Ticket], int]:
    statuses = (Status.NEW.value, Status.REOPENED.value) if inbox else q.OPEN
    areas = scope.mayor_areas if inbox else scope.staff_areas
    return await q.queue(conn, areas, kind=kind, me=scope.person_id, now=deps.clock.now(),
                         limit=PAGE, offset=max(page, 0) * PAGE, statuses=statuses,
                         untriaged=inbox)


async def queue(deps: Deps, scope: Scope, kind: str, page: int, *, inbox: bool = False
                ) -> tuple[list[Ticket], int]:
    async with deps.db.read() as conn:
        return await _queue(conn, deps, scope, kind, page, inbox)


async def queue_view(deps: Deps, scope: Scope, kind: str, page: int, *, inbox: bool = False
                     ) -> ListView:
    """One page of the staff queue (or the mayor's inbox) with each ticket's neighbourhood."""
    async with deps.db.read() as conn:
        tickets, total = await _queue(conn, deps, scope, kind, page, inbox)
        return ListView(await _items(conn, tickets), total, deps.clock.now(), deps.calendar)


HANDLED_DAYS = 7
HANDLED_LIMIT = 5


@dataclass(frozen=True)
class Handled:
    """A request the mayor already triaged: routed (to `to_house`) or closed as a duplicate
    (of `original`)."""

    ticket: Ticket
    event: TicketEvent
    to_house: House | None = None
    original: str | None = None


async def handled(deps: Deps, scope: Scope) -> list[Handled]:
    """What this mayor routed or closed in the last HANDLED_DAYS (newest first)."""
    since = deps.clock.now() - timedelta(days=HANDLED_DAYS)
    async with deps.db.read() as conn:
        found = await repo.handled_by(conn, scope.person_id,
                                      [Action.ROUTE.value, Action.CLOSE.value],
                                      since=since, limit=HANDLED_LIMIT)
        result = []
        for ticket, event in found:
            to_house = None
            if event.action == Action.ROUTE and "to_house" in event.details:
                to_house = await places.house(conn, int(event.details["to_house"]))
            result.append(Handled(ticket, event, to_house,
                                  event.details.get("duplicate_of")))
        return result


def phone_variants(text: str) -> list[str] | None:
    """Spellings a stored phone may have: 09121234567, +989121234567, 989121234567."""
    digits = "".join(ch for ch in to_ascii_digits(text) if ch.isdigit())
    if len(digits) < 10 or len(digits) > 13 or len(digits) < len(text.strip().lstrip("+")) - 2:
        return None
    tail = digits[-10:]
    return ["0" + tail, "+98" + tail, "98" + tail, tail]


async def _search(conn: Conn, deps: Deps, scope: Scope, text: str
                  ) -> list[Ticket]:
    areas = scope.areas
    code = normalize_tracking_code(text)
    if len(text.split()) == 1:
        found = await q.ticket_in_scope(conn, areas, code=code)
        if found is not None:
            return [found]
    phones = phone_variants(text)
    if phones is not None:
        return await q.search_phone(conn, scope.staff_areas, phones, limit=SEARCH_LIMIT)
    query = normalize(text)
    if not query:
        return []
    return await q.search_text(conn, areas, query,
                               since=deps.clock.now() - timedelta(days=SEARCH_DAYS),
                               limit=SEARCH_LIMIT)


async def search(deps: Deps, scope: Scope, text: str) -> list[Ticket]:
    """By code (unique index), by phone (index; staff only) or by normalised text (FTS)."""
    async with deps.db.read() as conn:
        return await _search(conn, deps, scope, text)


async def search_view(deps: Deps, scope: Scope, text: str) -> ListView:
    """`search` with each ticket's neighbourhood, for the result list."""
    async with deps.db.read() as conn:
        items = await _items(conn, await _search(conn, deps, scope, text))
        return ListView(items, len(items), deps.clock.now(), deps.calendar)


async def templates(deps: Deps, scope: Scope) -> list[CannedReply]:
    async with deps.db.read() as conn:
        return await q.canned_replies(conn, scope.house_ids)


# ---------------------------------------------------------------------------- lookups for handlers

async def current_scope(deps: Deps, person_id: int, roles: list[Role], chat_id: int,
                        group: bool) -> Scope:
    async with deps.db.read() as conn:
        return await scope_for(conn, person_id, roles, chat_id=chat_id, group=group)


async def houses(deps: Deps) -> list[House]:
    async with deps.db.read() as conn:
        return await places.houses(conn)
