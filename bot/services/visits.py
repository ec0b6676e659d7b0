"""Field visits, one use case per step: a mayor or house staff member opens a visit in a
neighbourhood of their area, files one request after another for named residents (through
`bot.services.tickets.file_ticket`: the same window, routing and announcements), ends it with
a summary; residents claim their requests later. Each step is one transaction that writes the
visit (its step and the request being written) with the step's other rows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.deps import Deps
from bot.domain import visits as rules
from bot.domain.forms import FormFile
from bot.domain.models import Category, House, Neighbourhood, Role, Ticket
from bot.domain.notices import Notice, NoticeKind
from bot.domain.text import normalize_tracking_code
from bot.domain.tickets import Kind
from bot.domain.visits import Visit, VisitDraft, VisitRequest
from bot.i18n import N_
from bot.services.errors import Refused
from bot.services.tickets import Actor, AttachmentIn, Draft, file_ticket
from storage import places
from storage import tickets as tickets_repo
from storage import visits as repo
from storage.conn import Conn
from storage.db import Database
from storage.staff_queries import neighbourhood_ids

VISIT_ROLES = ("mayor", "staff", "supervisor")

NOT_ALLOWED = N_("Field visits are for neighbourhood mayors and house staff.")
OUT_OF_SCOPE = N_("This neighbourhood is not in your area.")
NO_VISIT = N_("You have no open field visit. Start one with /visit.")
EXPIRED = N_("This menu has expired.")
BAD_PHONE = N_("That is not a mobile number (like 0912 345 6789). Send it again, or press "
               "«No phone».")
NOT_DESCRIBED = N_("First write what the request is about, or send a voice message.")
NOT_FOUND = N_("There is no request with code {code} to claim.")
ALREADY = N_("Request {code} has already been claimed.")
LOCKED = N_("Claiming request {code} is locked for a day after three wrong answers. Please "
            "try again tomorrow, or ask the person who filed it.")
NO_PHONE = N_("Request {code} has no phone number. Only the person who filed it can hand it "
              "over to you: ask them for a link.")
NOT_YOURS = N_("Only the person who filed request {code} at a visit can hand it over.")
BAD_LINK = N_("This link is not valid any more. Ask the person who filed the request for a "
              "new one.")


class WrongDigits(Refused):
    """A wrong answer; `left` tries before the code locks (0: it is locked now)."""

    def __init__(self, code: str, left: int) -> None:
        super().__init__("")
        self.code = code
        self.left = left


# ---------------------------------------------------------------------------- helpers


async def _area(conn: Conn, roles: list[Role]) -> set[int]:
    """Neighbourhoods where this person may hold a visit (their mayor and staff roles)."""
    found: set[int] = set()
    for role in roles:
        if role.role in VISIT_ROLES:
            ids = await neighbourhood_ids(conn, role.scope_kind, role.scope_id)
            found.update(ids or ())
    return found


async def _open(conn: Conn, person_id: int) -> Visit:
    visit = await repo.open_visit(conn, person_id)
    if visit is None:
        raise Refused(NO_VISIT)
    return visit


async def _in_step(conn: Conn, person_id: int, *steps: str) -> Visit:
    visit = await _open(conn, person_id)
    if visit.step not in steps or (visit.draft is None and visit.step in rules.PERSON_STEPS):
        raise Refused(EXPIRED)
    return visit


def _draft(visit: Visit) -> VisitDraft:
    assert visit.draft is not None
    return visit.draft


async def _put(conn: Conn, deps: Deps, visit: Visit, **fields: Any) -> Visit:
    return await repo.update(conn, visit.id, deps.clock.now(), **fields)


@dataclass(frozen=True)
class State:
    """The open visit and its neighbourhood (None while it is chosen)."""

    visit: Visit
    neighbourhood: Neighbourhood | None
    options: list[Neighbourhood]       # to choose from, at the place step
    filed: int = 0                     # requests filed so far
    resumed: bool = False
    categories: list[Category] = field(default_factory=list)   # at the category step


async def _state(conn: Conn, visit: Visit, options: list[Neighbourhood] | None
                 = None, resumed: bool = False) -> State:
    n = await places.neighbourhood(conn, visit.neighbourhood_id) \
        if visit.neighbourhood_id is not None else None
    categories = await places.categories(conn) if visit.step == rules.CATEGORY else []
    return State(visit, n, options or [], len(await repo.requests_of(conn, visit.id)), resumed,
                 categories)


async def _options(conn: Conn, area: set[int]) -> list[Neighbourhood]:
    found = [await places.neighbourhood(conn, nid) for nid in sorted(area)]
    return [n for n in found if n is not None]


# ---------------------------------------------------------------------------- the visit


async def begin(deps: Deps, person_id: int, chat_id: int, roles: list[Role],
                code: str | None = None) -> State:
    """/visit [CODE]: the open visit where it was, or a new one (its neighbourhood chosen
    at once when the code is given or the area has only one)."""
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        current = await repo.open_visit(conn, person_id)
        if current is not None:
            return await _state(conn, current, await _options(conn, await _area(conn, roles)),
                                resumed=True)
        area = await _area(conn, roles)
        if not area:
            raise Refused(NOT_ALLOWED)
        chosen: Neighbourhood | None = None
        if code:
            chosen = await places.neighbourhood_by_code(conn, code.strip().upper())
            if chosen is None or chosen.id not in area:
                raise Refused(OUT_OF_SCOPE)
        elif len(area) == 1:
            chosen = await places.neighbourhood(conn, next(iter(area)))
        visit = await repo.start(conn, filer_id=person_id, chat_id=chat_id, now=now,
                                 step=rules.TITLE if chosen else rules.PLACE,
                                 neighbourhood_id=chosen.id if chosen else None)
        if chosen is not None:
            visit = await _put(conn, deps, visit, lat=chosen.lat, lon=chosen.lon)
        return await _state(conn, visit, await _options(conn, area))


async def pick_place(deps: Deps, person_id: int, roles: list[Role], neighbourhood_id: int
                     ) -> State:
    async with deps.db.tx() as conn:
        visit = await _in_step(conn, person_id, rules.PLACE)
        if neighbourhood_id not in await _area(conn, roles):
            raise Refused(OUT_OF_SCOPE)
        n = await places.neighbourhood(conn, neighbourhood_id)
        assert n is not None
        visit = await _put(conn, deps, visit, neighbourhood_id=n.id, lat=n.lat, lon=n.lon,
                           step=rules.TITLE)
        return await _state(conn, visit)


async def set_title(deps: Deps, person_id: int, title: str) -> State:
    async with deps.db.tx() as conn:
        visit = await _in_step(conn, person_id, rules.TITLE)
        visit = await _put(conn, deps, visit, title=title.strip()[:rules.MAX_TITLE],
                           step=rules.WHEN)
        return await _state(conn, visit)


async def set_when(deps: Deps, person_id: int, held_at: datetime | None) -> State:
    """The visit's time (None: now); the visit is then open for filing."""
    async with deps.db.tx() as conn:
        visit = await _in_step(conn, person_id, rules.WHEN)
        visit = await _put(conn, deps, visit, held_at=held_at or deps.clock.now(),
                           step=rules.READY)
        return await _state(conn, visit)


async def set_location(deps: Deps, person_id: int, lat: float, lon: float) -> State:
    """A location sent while the visit is open: the visit's own (the default of its
    requests), or the one request's while it is being written."""
    async with deps.db.tx() as conn:
        visit = await _open(conn, person_id)
        if visit.draft is not None and visit.step == rules.DESCRIBE:
            draft = visit.draft.model_copy(update={"lat": lat, "lon": lon})
            visit = await _put(conn, deps, visit, draft=draft)
        else:
            visit = await _put(conn, deps, visit, lat=lat, lon=lon)
        return await _state(conn, visit)


async def current(deps: Deps, person_id: int) -> State | None:
    async with deps.db.read() as conn:
        visit = await repo.open_visit(conn, person_id)
        return None if visit is None else await _state(conn, visit)


# ---------------------------------------------------------------------------- one person


async def new_person(deps: Deps, person_id: int) -> State:
    async with deps.db.tx() as conn:
        visit = await _in_step(conn, person_id, rules.READY)
        draft = VisitDraft(lat=visit.lat, lon=visit.lon)
        return await _state(conn, await _put(conn, deps, visit, draft=draft, step=rules.NAME))


async def drop_person(deps: Deps, person_id: int) -> State:
    """«Cancel this request»: nothing is filed, the visit stays open."""
    async with deps.db.tx() as conn:
        visit = await _open(conn, person_id)
        return await _state(conn, await _put(conn, deps, visit, draft=None, step=rules.READY))


async def set_name(deps: Deps, person_id: int, name: str) -> State:
    async with deps.db.tx() as conn:
        visit = await _in_step(conn, person_id, rules.NAME)
        draft = _draft(visit).model_copy(update={"name": name.strip()[:rules.MAX_NAME]})
        return await _state(conn, await _put(conn, deps, visit, draft=draft, step=rules.PHONE))


async def set_phone(deps: Deps, person_id: int, text: str | None) -> State:
    """A mobile number (normalised to 09XXXXXXXXX), or None for «no phone»."""
    phone = None
    if text is not None:
        phone = rules.normalize_mobile(text)
        if phone is None:
            raise Refused(BAD_PHONE)
    async with deps.db.tx() as conn:
        visit = await _in_step(conn, person_id, rules.PHONE)
        draft = _draft(visit).model_copy(update={"phone": phone})
        return await _state(conn, await _put(conn, deps, visit, draft=draft, step=rules.KIND))


async def choose_kind(deps: Deps, person_id: int, kind: Kind) -> list[Category]:
    async with deps.db.tx() as conn:
        visit = await _in_step(conn, person_id, rules.KIND)
        draft = _draft(visit).model_copy(update={"kind": kind})
        await _put(conn, deps, visit, draft=draft, step=rules.CATEGORY)
        return await places.categories(conn)


async def choose_category(deps: Deps, person_id: int, category_id: int
                          ) -> tuple[Category, House]:
    async with deps.db.tx() as conn:
        visit = await _in_step(conn, person_id, rules.CATEGORY)
        category = await places.category(conn, category_id)
        if category is None or visit.neighbourhood_id is None:
            raise Refused(EXPIRED)
        house = await places.house(conn, await places.house_for(conn, visit.neighbourhood_id,
                                                                category.id))
        assert house is not None
        draft = _draft(visit).model_copy(update={"category_id": category.id})
        await _put(conn, deps, visit, draft=draft, step=rules.DESCRIBE)
        return category, house


async def add_text(deps: Deps, person_id: int, text: str) -> VisitDraft:
    async with deps.db.tx() as conn:
        visit = await _in_step(conn, person_id, rules.DESCRIBE)
        draft = _draft(visit)
        draft = draft.model_copy(update={"text": (*draft.text, text)})
        await _put(conn, deps, visit, draft=draft)
        return draft


async def add_file(deps: Deps, person_id: int, item: FormFile, caption: str | None
                   ) -> VisitDraft:
    async with deps.db.tx() as conn:
        visit = await _in_step(conn, person_id, rules.DESCRIBE)
        draft = _draft(visit)
        text = (*draft.text, caption) if caption else draft.text
        draft = draft.model_copy(update={"files": (*draft.files, item), "text": text})
        await _put(conn, deps, visit, draft=draft)
        return draft


@dataclass(frozen=True)
class Receipt:
    """What a receipt shows (`bot.ui.receipts`)."""

    ticket: Ticket
    request: VisitRequest
    neighbourhood: Neighbourhood
    house: House
    visit: Visit


async def _receipt(conn: Conn, ticket: Ticket, request: VisitRequest,
                   visit: Visit) -> Receipt:
    n = await places.neighbourhood(conn, ticket.neighbourhood_id)
    house = await places.house(conn, ticket.house_id)
    assert n is not None and house is not None
    return Receipt(ticket, request, n, house, visit)


async def file(deps: Deps, person_id: int, key: str, role: str) -> Receipt:
    """«✅ File»: the ticket is filed for the named person through the usual filing (window,
    routing, announcements); whom it is for and the visit's next step are written in the
    same transaction. A second press returns the same request."""
    async with deps.db.read() as conn:
        visit = await _open(conn, person_id)
        already = await tickets_repo.filed_by_key(conn, key)
        if already is not None:
            request = await repo.request(conn, already.id)
            if request is not None:
                return await _receipt(conn, already, request, visit)
    draft = visit.draft
    if visit.step != rules.DESCRIBE or draft is None or draft.id != key or \
            draft.kind is None or draft.category_id is None or visit.neighbourhood_id is None:
        raise Refused(EXPIRED)
    if not draft.described:
        raise Refused(NOT_DESCRIBED)
    now = deps.clock.now()
    files = [AttachmentIn(f.kind, f.file_id, f.file_unique_id, f.caption) for f in draft.files]
    filing = Draft(resident_id=person_id, neighbourhood_id=visit.neighbourhood_id,
                   kind=draft.kind, category_id=draft.category_id, text=draft.body,
                   phone=draft.phone, lat=draft.lat, lon=draft.lon, attachments=files,
                   filed_by=Actor(person_id, role))

    async def record(conn: Conn, ticket: Ticket) -> None:
        await repo.add_request(conn, ticket_id=ticket.id, visit_id=visit.id,
                               filer_id=person_id, name=draft.name, phone=draft.phone, now=now)
        await repo.update(conn, visit.id, now, draft=None, step=rules.READY)

    ticket, _ = await file_ticket(deps, filing, idem_key=draft.id, after=record)
    async with deps.db.read() as conn:
        request = await repo.request(conn, ticket.id)
        fresh = await repo.get(conn, visit.id)
        assert request is not None and fresh is not None
        return await _receipt(conn, ticket, request, fresh)


@dataclass(frozen=True)
class Summary:
    visit: Visit
    neighbourhood: Neighbourhood | None
    receipts: list[Receipt]


async def end(deps: Deps, person_id: int) -> Summary:
    """/visit end: the visit closes (a request being written is dropped) and its summary and
    receipts are returned."""
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        visit = await _open(conn, person_id)
        visit = await _put(conn, deps, visit, draft=None, ended_at=now)
        return await _summary(conn, visit)


async def _summary(conn: Conn, visit: Visit) -> Summary:
    receipts = []
    for request in await repo.requests_of(conn, visit.id):
        ticket = await tickets_repo.get(conn, request.ticket_id)
        assert ticket is not None
        receipts.append(await _receipt(conn, ticket, request, visit))
    n = await places.neighbourhood(conn, visit.neighbourhood_id) \
        if visit.neighbourhood_id is not None else None
    return Summary(visit, n, receipts)


# ---------------------------------------------------------------------------- claiming


@dataclass(frozen=True)
class Claimed:
    ticket: Ticket
    request: VisitRequest


async def _claimable(conn: Conn, code: str, now: datetime
                     ) -> tuple[Ticket, VisitRequest]:
    ticket = await tickets_repo.by_code(conn, code) if code else None
    request = await repo.request(conn, ticket.id) if ticket is not None else None
    if ticket is None or request is None:
        raise Refused(NOT_FOUND, code=code)
    if request.claimed:
        raise Refused(ALREADY, code=code)
    if request.locked(now):
        raise Refused(LOCKED, code=code)
    return ticket, request


async def _take_over(conn: Conn, deps: Deps, ticket: Ticket,
                     request: VisitRequest, person_id: int, how: str) -> Claimed:
    now = deps.clock.now()
    await repo.claim(conn, ticket.id, person_id, now)
    await repo.drop_prompt(conn, person_id)
    await tickets_repo.add_event(conn, ticket_id=ticket.id, at=now, actor_id=person_id,
                                 actor_role="resident", action="claim", public=True,
                                 details={"visit": request.visit_id, "how": how})
    if request.filer_id != person_id:
        await deps.outbox.notify(conn, Notice(
            NoticeKind.CLAIMED, request.filer_id, f"claimed:{ticket.id}", "claimed", ticket.id,
            {"code": ticket.code, "name": request.name}))
    fresh = await tickets_repo.get(conn, ticket.id)
    claimed = await repo.request(conn, ticket.id)
    assert fresh is not None and claimed is not None
    return Claimed(fresh, claimed)


async def ask_claim(deps: Deps, person_id: int, code: str) -> Ticket:
    """/start c_CODE or /claim CODE: the request can be claimed; the next four digits this
    person sends answer «the last four digits of the phone»."""
    code = normalize_tracking_code(code)
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        ticket, request = await _claimable(conn, code, now)
        if request.phone is None:
            raise Refused(NO_PHONE, code=code)
        await repo.set_prompt(conn, person_id, ticket.id, now)
        return ticket


async def pending_claim(deps: Deps, person_id: int) -> str | None:
    """The code whose digits this person was asked for (recently), if any."""
    async with deps.db.read() as conn:
        found = await repo.prompt(conn, person_id)
        if found is None or deps.clock.now() - found[1] > rules.CLAIM_PROMPT_VALID:
            return None
        ticket = await tickets_repo.get(conn, found[0])
        return ticket.code if ticket is not None else None


async def claim(deps: Deps, person_id: int, code: str, digits: str) -> Claimed:
    """The last four digits of the phone on the request: right links it to this person;
    wrong counts, and the third wrong answer locks the code for a day."""
    code = normalize_tracking_code(code)
    now = deps.clock.now()
    wrong: WrongDigits | None = None
    async with deps.db.tx() as conn:
        ticket, request = await _claimable(conn, code, now)
        if request.phone is None:
            raise Refused(NO_PHONE, code=code)
        if rules.digits_match(request.phone, digits):
            return await _take_over(conn, deps, ticket, request, person_id, "phone")
        tries, locked_until = rules.after_wrong_try(request.failed_tries, now)
        await repo.set_tries(conn, ticket.id, tries, locked_until)
        if locked_until is not None:
            await repo.drop_prompt(conn, person_id)
        wrong = WrongDigits(code, 0 if locked_until else rules.MAX_TRIES - tries)
    raise wrong


@dataclass(frozen=True)
class Handover:
    token: str          # for the link t.me/<bot>?start=h_TOKEN
    code: str
    name: str           # whom it was filed for


async def handover(deps: Deps, person_id: int, code: str) -> Handover:
    """/handover CODE by the filer: a one-time link's token (a new one replaces the last)."""
    code = normalize_tracking_code(code)
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        ticket = await tickets_repo.by_code(conn, code) if code else None
        request = await repo.request(conn, ticket.id) if ticket is not None else None
        if ticket is None or request is None or request.filer_id != person_id:
            raise Refused(NOT_YOURS, code=code)
        if request.claimed:
            raise Refused(ALREADY, code=code)
        token = secrets.token_urlsafe(12)
        await repo.set_handover(conn, ticket.id, token, now + rules.HANDOVER_VALID)
        return Handover(token, ticket.code, request.name)


async def claim_by_link(deps: Deps, person_id: int, token: str) -> Claimed:
    """/start h_TOKEN: the filer's one-time link claims the request (no phone needed)."""
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        request = await repo.request_by_handover(conn, token) if token else None
        if request is None or request.claimed or request.handover_until is None or \
                now > request.handover_until:
            raise Refused(BAD_LINK)
        ticket = await tickets_repo.get(conn, request.ticket_id)
        assert ticket is not None
        return await _take_over(conn, deps, ticket, request, person_id, "handover")


# ---------------------------------------------------------------------------- read side


async def proxy_name(db: Database, ticket_id: int, chat_id: int) -> str | None:
    """For the notice renderer: the resident's name when a message meant for them goes to
    the filer of an unclaimed request."""
    async with db.read() as conn:
        return await repo.proxy_name(conn, ticket_id, chat_id)


async def tags(conn: Conn, ticket_ids: list[int]
               ) -> dict[int, tuple[int, str, str]]:
    """ticket id -> (visit id, title, resident's name): the channel on cards and exports."""
    return await repo.tags(conn, ticket_ids)


async def counts(conn: Conn) -> dict[tuple[int, int], int]:
    """(house id, neighbourhood id) -> requests filed at visits, for /stats."""
    return await repo.counts_by_place(conn, None)
