"""The resident's form, one use case per step: each takes `deps`, opens one transaction and
writes the form (`storage.forms`) together with the step's other rows (the neighbourhood, the
filed ticket, a follow-up), so a crash between two steps loses nothing.

Refusals are `Refused(N_(...))`; handlers render them with `bot.ui.errors.refused_text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from bot.deps import Deps
from bot.domain import forms as steps
from bot.domain.delivery import receipt_key
from bot.domain.forms import FormFile, ResidentForm, from_legacy
from bot.domain.models import Category, City, House, Neighbourhood, Person, Province, Ticket
from bot.domain.resident import Summary
from bot.domain.tickets import Kind
from bot.i18n import N_
from bot.services import resident as conn_level
from bot.services.errors import Refused
from bot.services.tickets import AttachmentIn, Draft, file_ticket
from storage import forms, people, places
from storage import outbox as outbox_repo
from storage import tickets as repo
from storage.conn import Conn

EXPIRED = N_("This menu has expired.")
FOLLOW_CLOSED = N_("This request is closed, so I could not add your message. Please send a "
                   "new request.")
TOO_MANY = N_("You have too many open requests to send another one now. Please wait for "
              "answers.")


class OpenLimit(Refused):
    """The resident already has `limit` open requests (the text has a plural form)."""

    def __init__(self, limit: int) -> None:
        super().__init__("")
        self.limit = limit


# ------------------------------------------------------------------ helpers


def _timeout(deps: Deps) -> timedelta:
    return timedelta(minutes=deps.settings.conversation_timeout_minutes)


def _new(deps: Deps, person_id: int, chat_id: int, mode: steps.Mode, step: str,
         **values: Any) -> ResidentForm:
    now = deps.clock.now()
    return ResidentForm(person_id=person_id, chat_id=chat_id, mode=mode, step=step,
                        started_at=now, at=now, **values)


async def _put(conn: Conn, deps: Deps, form: ResidentForm,
               **changes: Any) -> ResidentForm:
    now = deps.clock.now()
    form = form.model_copy(update={**changes, "at": now})
    await forms.put(conn, form, now)
    return form


async def _save(deps: Deps, form: ResidentForm, **changes: Any) -> ResidentForm:
    async with deps.db.tx() as conn:
        return await _put(conn, deps, form, **changes)


async def _open_count(conn: Conn, person_id: int) -> int:
    return await repo.count_by_resident(conn, person_id, open_only=True)


async def _owned_open(conn: Conn, ticket_id: int | None, person_id: int
                      ) -> Ticket:
    ticket = await conn_level.owned_ticket(conn, ticket_id, person_id) if ticket_id else None
    if ticket is None or not ticket.is_open:
        raise Refused(EXPIRED)
    return ticket


# ------------------------------------------------------------------ the form itself


async def resume(deps: Deps, person_id: int, chat_id: int, legacy: object = None
                 ) -> ResidentForm | None:
    """The form at its step, its idle clock restarted; None when it expired or is gone (it is
    then deleted). `legacy` is a form from PTB's user_data before the forms table: read once
    (its step from PTB's conversations table)."""
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        form = await forms.get(conn, person_id)
        if form is None and legacy is not None:
            step = await forms.legacy_step(conn, chat_id, person_id)
            form = from_legacy(legacy, person_id, chat_id, step, now)
        if form is None or form.expired(now, _timeout(deps)):
            await forms.delete(conn, person_id)
            return None
        return await _put(conn, deps, form)


async def end(deps: Deps, person_id: int) -> None:
    """Cancelled, timed out or finished: the form is gone."""
    async with deps.db.tx() as conn:
        await forms.delete(conn, person_id)


async def end_refused(deps: Deps, person_id: int, exc: Refused) -> NoReturn:
    """A refused step that ends the conversation ends the form too (after the refused
    transaction was rolled back), so a restart does not bring the form back."""
    await end(deps, person_id)
    raise exc


@dataclass(frozen=True)
class KindPrompt:
    form: ResidentForm
    neighbourhood: Neighbourhood | None


@dataclass(frozen=True)
class Started:
    form: ResidentForm
    person: Person
    neighbourhood: Neighbourhood | None     # None: the place must be chosen first


async def _start(conn: Conn, deps: Deps, person: Person, chat_id: int
                 ) -> Started:
    limit = deps.settings.max_open_tickets
    if await _open_count(conn, person.id) >= limit:
        raise OpenLimit(limit)
    n = await places.neighbourhood(conn, person.neighbourhood_id) \
        if person.neighbourhood_id is not None else None
    step = steps.KIND if person.neighbourhood_id is not None else steps.PLACE
    form = _new(deps, person.id, chat_id, "new", step)
    await forms.put(conn, form, deps.clock.now())
    return Started(form, person, n)


async def start_new(deps: Deps, person: Person, chat_id: int) -> Started:
    """/new: a fresh filing form, unless the resident has too many open requests."""
    try:
        async with deps.db.tx() as conn:
            return await _start(conn, deps, person, chat_id)
    except OpenLimit as exc:
        await end_refused(deps, person.id, exc)


async def agree_and_start(deps: Deps, person_id: int, chat_id: int) -> Started:
    """«I agree»: consent recorded and the filing form started, at once."""
    async with deps.db.tx() as conn:
        await people.set_consent(conn, person_id, deps.clock.now())
        person = await people.get(conn, person_id)
        assert person is not None
    return await start_new(deps, person, chat_id)


async def start_follow(deps: Deps, person_id: int, chat_id: int, ticket_id: int | None
                       ) -> ResidentForm:
    """«✍️ Add a message» on one of the resident's open requests."""
    try:
        async with deps.db.tx() as conn:
            ticket = await _owned_open(conn, ticket_id, person_id)
            form = _new(deps, person_id, chat_id, "follow", steps.DESCRIBE,
                        ticket_id=ticket.id, code=ticket.code)
            await forms.put(conn, form, deps.clock.now())
            return form
    except Refused as exc:
        await end_refused(deps, person_id, exc)


async def back_to_kind(deps: Deps, form: ResidentForm) -> KindPrompt:
    async with deps.db.tx() as conn:
        person = await people.get(conn, form.person_id)
        n = await places.neighbourhood(conn, person.neighbourhood_id) \
            if person is not None and person.neighbourhood_id is not None else None
        return KindPrompt(await _put(conn, deps, form, step=steps.KIND), n)


async def choose_kind(deps: Deps, form: ResidentForm, kind: Kind
                      ) -> tuple[ResidentForm, list[Category]]:
    async with deps.db.tx() as conn:
        items = await places.categories(conn)
        return await _put(conn, deps, form, kind=kind, step=steps.CATEGORY), items


@dataclass(frozen=True)
class CategoryChosen:
    form: ResidentForm
    category: Category
    house: House
    same: Ticket | None       # an open request of the resident in the same subject


async def choose_category(deps: Deps, form: ResidentForm, category_id: int) -> CategoryChosen:
    async with deps.db.tx() as conn:
        person = await people.get(conn, form.person_id)
        category = await places.category(conn, category_id)
        if category is None or person is None or person.neighbourhood_id is None:
            raise Refused(EXPIRED)
        house = await places.house(conn, await places.house_for(conn, person.neighbourhood_id,
                                                                category.id))
        assert house is not None
        same = await repo.open_by_resident_category(conn, person.id, category.id)
        form = await _put(conn, deps, form, category_id=category.id,
                          step=steps.DUP if same else steps.DESCRIBE)
        return CategoryChosen(form, category, house, same[0] if same else None)


async def same_subject(deps: Deps, form: ResidentForm, ticket_id: int) -> ResidentForm:
    """Add to the open request `ticket_id`, or (0) a new request after all."""
    async with deps.db.tx() as conn:
        if not ticket_id:
            return await _put(conn, deps, form, step=steps.DESCRIBE)
        ticket = await _owned_open(conn, ticket_id, form.person_id)
        return await _put(conn, deps, form, mode="follow", ticket_id=ticket.id,
                          code=ticket.code, step=steps.DESCRIBE)


async def add_text(deps: Deps, form: ResidentForm, text: str) -> ResidentForm:
    async with deps.db.tx() as conn:
        form = await forms.get(conn, form.person_id) or form    # the latest parts
        return await _put(conn, deps, form, text=(*form.text, text))


async def add_file(deps: Deps, form: ResidentForm, item: FormFile, caption: str | None
                   ) -> ResidentForm:
    async with deps.db.tx() as conn:
        form = await forms.get(conn, form.person_id) or form
        text = (*form.text, caption) if caption else form.text
        return await _put(conn, deps, form, files=(*form.files, item), text=text)


def _attachments(form: ResidentForm) -> list[AttachmentIn]:
    return [AttachmentIn(f.kind, f.file_id, f.file_unique_id, f.caption) for f in form.files]


async def add_follow_up(deps: Deps, form: ResidentForm, body: str) -> Ticket:
    """The follow-up form is done: the message joins its request and the form ends."""
    async with deps.db.tx() as conn:
        ticket = await conn_level.owned_ticket(conn, form.ticket_id or 0, form.person_id)
        if ticket is None or not ticket.is_open:
            await forms.delete(conn, form.person_id)
            refused = True
        else:
            refused = False
            ticket = await conn_level.add_resident_message(
                conn, deps, ticket, form.person_id, body, _attachments(form))
            await forms.delete(conn, form.person_id)
    if refused:
        raise Refused(FOLLOW_CLOSED)
    assert ticket is not None
    return ticket


async def to_extras(deps: Deps, form: ResidentForm) -> ResidentForm:
    return await _save(deps, form, step=steps.EXTRAS)


async def set_phone(deps: Deps, form: ResidentForm, phone: str) -> ResidentForm:
    return await _save(deps, form, phone=phone)


async def set_location(deps: Deps, form: ResidentForm, lat: float, lon: float) -> ResidentForm:
    return await _save(deps, form, lat=lat, lon=lon)


async def edit_description(deps: Deps, form: ResidentForm) -> ResidentForm:
    return await _save(deps, form, text=(), files=(), step=steps.DESCRIBE)


async def to_summary(deps: Deps, form: ResidentForm) -> Summary:
    async with deps.db.tx() as conn:
        person = await people.get(conn, form.person_id)
        if person is None or person.neighbourhood_id is None or form.category_id is None:
            raise Refused(EXPIRED)
        n = await places.neighbourhood(conn, person.neighbourhood_id)
        category = await places.category(conn, form.category_id)
        house = await places.house(conn, await places.house_for(
            conn, person.neighbourhood_id, form.category_id))
        assert n is not None and category is not None and house is not None
        return Summary(await _put(conn, deps, form, step=steps.CONFIRM), n, category, house)


async def ask_urgent(deps: Deps, form: ResidentForm) -> ResidentForm:
    """«🚨 It is urgent» on the summary: the reason is asked next."""
    return await _save(deps, form, step=steps.URGENT_REASON)


async def set_urgent(deps: Deps, form: ResidentForm, reason: str | None) -> Summary:
    """Urgent with a reason (None: not urgent after all); back to the summary."""
    form = form.model_copy(update={"urgent": reason is not None, "urgent_reason": reason})
    return await to_summary(deps, form)


@dataclass(frozen=True)
class Filed:
    """A filed request and the house that answers it (named in the receipt)."""

    ticket: Ticket
    house: House | None


async def confirm(deps: Deps, form: ResidentForm, key: str) -> Filed:
    """«✅ Send»: the ticket is filed and the form deleted in one transaction; a second press
    returns the same ticket."""
    if key != form.id or form.kind is None or form.category_id is None:
        raise Refused(EXPIRED)
    async with deps.db.tx() as conn:
        person = await people.get(conn, form.person_id)
        already = await repo.filed_by_key(conn, form.id)
        over = already is None and await _open_count(conn, form.person_id) >= \
            deps.settings.max_open_tickets
        if over:
            await forms.delete(conn, form.person_id)
    if over:
        raise Refused(TOO_MANY)
    assert person is not None and person.neighbourhood_id is not None
    draft = Draft(resident_id=person.id, neighbourhood_id=person.neighbourhood_id,
                  kind=form.kind, category_id=form.category_id, text=form.body,
                  phone=form.phone, lat=form.lat, lon=form.lon,
                  attachments=_attachments(form), urgent=form.urgent,
                  urgent_reason=form.urgent_reason)

    async def drop_form(conn: Conn) -> None:
        await forms.delete(conn, form.person_id)

    ticket, _ = await file_ticket(deps, draft, idem_key=form.id, then=drop_form)
    async with deps.db.read() as conn:
        house = await places.house(conn, ticket.house_id)
    return Filed(ticket, house)


async def receipt_shown(deps: Deps, ticket_id: int, message_id: int) -> None:
    """The handler's own reply with the tracking code arrived: the outbox's copy is done."""
    async with deps.db.tx() as conn:
        await outbox_repo.mark_sent_by_key(conn, receipt_key(ticket_id), message_id,
                                           deps.clock.now())


async def already_filed(deps: Deps, person_id: int, key: str) -> Ticket:
    """A late second «Send» after the form ended: the ticket filed by the first one."""
    async with deps.db.read() as conn:
        ticket = await repo.filed_by_key(conn, key) if key else None
    if ticket is None or ticket.resident_id != person_id:
        raise Refused(EXPIRED)
    return ticket


# ------------------------------------------------------------------ the neighbourhood


@dataclass(frozen=True)
class PlaceStarted:
    form: ResidentForm
    current: Neighbourhood | None


async def start_place(deps: Deps, person: Person, chat_id: int) -> PlaceStarted:
    """/neighbourhood: a place form, with the neighbourhood chosen so far."""
    async with deps.db.tx() as conn:
        current = await places.neighbourhood(conn, person.neighbourhood_id) \
            if person.neighbourhood_id is not None else None
        form = _new(deps, person.id, chat_id, "place", steps.PLACE)
        await forms.put(conn, form, deps.clock.now())
        return PlaceStarted(form, current)


async def provinces(deps: Deps) -> list[Province]:
    async with deps.db.read() as conn:
        return await places.provinces(conn)


async def province_page(deps: Deps, province_id: int) -> tuple[Province, list[City]]:
    async with deps.db.read() as conn:
        province = await places.province(conn, province_id)
        cities = await places.cities(conn, province_id)
    if province is None:
        raise Refused(EXPIRED)
    return province, cities


async def city_page(deps: Deps, city_id: int) -> tuple[City, list[Neighbourhood]]:
    async with deps.db.read() as conn:
        city = await places.city(conn, city_id)
        items = await places.neighbourhoods(conn, city_id)
    if city is None:
        raise Refused(EXPIRED)
    return city, items


async def search(deps: Deps, query: str) -> list[Neighbourhood]:
    async with deps.db.read() as conn:
        return await conn_level.search_neighbourhoods(conn, query)


async def nearest(deps: Deps, lat: float, lon: float) -> list[Neighbourhood]:
    async with deps.db.read() as conn:
        return [n for n, _ in await conn_level.nearest_neighbourhoods(conn, lat, lon)]


@dataclass(frozen=True)
class Picked:
    neighbourhood: Neighbourhood
    person: Person
    form: ResidentForm | None     # the filing form continuing at the kind step, or None


async def pick(deps: Deps, person_id: int, form: ResidentForm | None, neighbourhood_id: int
               ) -> Picked:
    """The neighbourhood is remembered; a filing form goes on to the kind, a place form ends."""
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        chosen = await places.neighbourhood(conn, neighbourhood_id)
        if chosen is None:
            raise Refused(EXPIRED)
        await people.set_neighbourhood(conn, person_id, chosen.id, now)
        person = await people.get(conn, person_id)
        assert person is not None
        if form is not None and form.mode == "new":
            form = await _put(conn, deps, form, step=steps.KIND)
        else:
            form = None
            await forms.delete(conn, person_id)
        return Picked(chosen, person, form)


@dataclass(frozen=True)
class DeepLink:
    person: Person
    chosen: Neighbourhood | None      # None: the link is not valid; a place form started


async def deep_link(deps: Deps, person_id: int, chat_id: int, code: str) -> DeepLink:
    """/start n_CODE from a poster: the neighbourhood preselected, or the picker opened."""
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        chosen = await places.neighbourhood_by_code(conn, code) if code else None
        if chosen is not None:
            await people.set_neighbourhood(conn, person_id, chosen.id, now)
            await forms.delete(conn, person_id)
        else:
            await forms.put(conn, _new(deps, person_id, chat_id, "place", steps.PLACE), now)
        person = await people.get(conn, person_id)
        assert person is not None
        return DeepLink(person, chosen)
