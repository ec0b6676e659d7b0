"""The ticket mechanism every feature uses: file, apply an action, tell the resident.

One rule: every change goes through `apply()` inside a transaction, which checks the state
machine, updates the row, writes the event (the history) and returns both. Notifications
are queued in the same transaction as typed notices (`bot.domain.notices`, rendered when
they are sent), so nothing is lost or doubled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.deps import Deps
from bot.domain.delivery import RECEIPT, RECEIPT_GRACE, receipt_key
from bot.domain.models import Ticket
from bot.domain.notices import Notice, NoticeKind, when
from bot.domain.text import generate_tracking_code
from bot.domain.tickets import Action, Kind, next_status
from bot.services import windows
from storage import places, roles_query
from storage import tickets as repo
from storage.conn import Conn


@dataclass(frozen=True)
class Actor:
    id: int | None
    role: str   # resident | mayor | staff | supervisor | admin | system


SYSTEM = Actor(None, "system")


@dataclass(frozen=True)
class AttachmentIn:
    kind: str
    file_id: str
    file_unique_id: str | None = None
    caption: str | None = None


@dataclass
class Draft:
    resident_id: int
    neighbourhood_id: int
    kind: Kind
    category_id: int
    text: str
    phone: str | None = None
    lat: float | None = None
    lon: float | None = None
    attachments: list[AttachmentIn] = field(default_factory=list)
    filed_by: Actor | None = None     # someone filing for the resident (a field visit)
    urgent: bool = False
    urgent_reason: str | None = None


async def _unique_code(conn: Conn) -> str:
    for _ in range(20):
        code = generate_tracking_code()
        if not await repo.code_exists(conn, code):
            return code
    raise RuntimeError("could not find a free tracking code")


async def file_ticket(deps: Deps, draft: Draft, *, idem_key: str,
                      then: Callable[[Conn], Awaitable[None]] | None = None,
                      after: Callable[[Conn, Ticket], Awaitable[None]]
                      | None = None) -> tuple[Ticket, bool]:
    """Create the ticket, its first event, its deadline and the staff notifications at once.

    `idem_key` (e.g. the resident's draft id) makes a double press on "confirm" return the
    ticket already filed instead of a second one. Returns (ticket, created). `then` runs in
    the same transaction (the resident's form is deleted with the filing); `after` too, with
    the new ticket (a field visit records whom it was filed for).
    """
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        if then is not None:
            await then(conn)
        existing = await repo.filed_by_key(conn, idem_key)
        if existing is not None:
            return existing, False
        house_id = await places.house_for(conn, draft.neighbourhood_id, draft.category_id)
        window = windows.choose(deps, await places.category(conn, draft.category_id),
                                urgent=draft.urgent)
        clock = windows.new_window(deps, window, now)
        ticket = await repo.insert(
            conn, code=await _unique_code(conn), resident_id=draft.resident_id,
            neighbourhood_id=draft.neighbourhood_id, kind=draft.kind,
            category_id=draft.category_id, house_id=house_id, text=draft.text,
            phone=draft.phone, lat=draft.lat, lon=draft.lon, now=now, due_at=clock["due_at"],
            sla_next_at=clock["sla_next_at"], sla_clock=clock["sla_clock"],
            window_hours=clock["window_hours"], urgent=draft.urgent,
            urgent_reason=draft.urgent_reason if draft.urgent else None)
        actor = draft.filed_by or Actor(draft.resident_id, "resident")
        event_id = await repo.add_event(conn, ticket_id=ticket.id, at=now,
                                        actor_id=actor.id, actor_role=actor.role,
                                        action=Action.FILE, public=True, body=draft.text)
        for item in draft.attachments:
            await repo.add_attachment(conn, ticket_id=ticket.id, event_id=event_id,
                                      kind=item.kind, file_id=item.file_id,
                                      file_unique_id=item.file_unique_id, caption=item.caption,
                                      now=now)
        await repo.remember_filed(conn, idem_key, ticket.id)
        await announce(conn, deps, ticket, reason="new")
        # The tracking code, in case the handler's own reply never gets out (a crash, an
        # outage): it marks this row sent when its reply succeeds (`receipt_shown`).
        receipt: dict[str, Any] = {"code": ticket.code, "due": when(ticket.due_at),
                                   "house_id": ticket.house_id}
        if holidays := windows.holidays_on_the_way(deps, ticket):
            receipt["holidays"] = [[h.name_fa, h.name_en] for h in holidays]
        await deps.outbox.notify(conn, Notice(
            NoticeKind.RECEIPT, ticket.resident_id, receipt_key(ticket.id), RECEIPT,
            ticket.id, receipt, not_before=now + RECEIPT_GRACE))
        if after is not None:
            await after(conn, ticket)
    return ticket, True


async def apply(conn: Conn, deps: Deps, ticket: Ticket, action: Action,
                actor: Actor, *, body: str | None = None, public: bool = True,
                details: dict[str, Any] | None = None, derive_row: bool = False,
                **changes: Any) -> tuple[Ticket, int]:
    """Move the ticket by `action` (TransitionError if not allowed) and record the event.

    `derive_row=True` promises that `ticket` is the current row, read in this transaction:
    the updated row is then derived instead of read back (batch jobs: the SLA sweep)."""
    now = deps.clock.now()
    status = next_status(ticket.status, action)
    updated = await repo.update(conn, ticket.id, current=ticket if derive_row else None,
                                status=status, updated_at=now, **changes)
    event_id = await repo.add_event(conn, ticket_id=ticket.id, at=now, actor_id=actor.id,
                                    actor_role=actor.role, action=action, public=public,
                                    body=body, details=details)
    return updated, event_id


async def announce(conn: Conn, deps: Deps, ticket: Ticket, *, reason: str,
                   key_suffix: str = "", skip: int | None = None) -> int:
    """Tell the mayor(s), the house staff and bound groups of the area about a ticket in their
    queue: one message each. If nobody of that house covers the area, the mayor and the admin
    chat are told so that no ticket is left without an owner. Returns recipients count."""
    staff = set(await roles_query.people_with_role(conn, "staff", ticket.neighbourhood_id,
                                                   ticket.house_id))
    groups = await roles_query.bound_groups(conn, ticket.house_id, ticket.neighbourhood_id)
    mayors = set(await roles_query.people_with_role(conn, "mayor", ticket.neighbourhood_id))
    unowned = not staff and not groups
    recipients: list[int] = sorted(staff | mayors) + groups
    if unowned and deps.settings.admin_chat_id is not None:
        recipients.append(deps.settings.admin_chat_id)

    args = {"code": ticket.code, "new": reason == "new", "neighbourhood_id":
            ticket.neighbourhood_id, "ticket_kind": ticket.kind.value,
            "category_id": ticket.category_id, "house_id": ticket.house_id,
            "due": when(ticket.due_at), "unowned": unowned}
    if ticket.urgent:
        args.update(urgent=True, urgent_reason=ticket.urgent_reason or "")
    notice = NoticeKind.NEW_TICKET if reason == "new" else NoticeKind.IN_YOUR_QUEUE
    for chat_id in dict.fromkeys(recipients):
        if chat_id == skip:     # who moved it was told where it went
            continue
        # Mayors triage (route, mark duplicate) from the card; taking is for house staff.
        can_take = chat_id in staff or chat_id in groups
        await deps.outbox.notify(conn, Notice(
            notice, chat_id, f"announce:{ticket.id}:{ticket.window_no}:{ticket.house_id}:"
            f"{reason}{key_suffix}:{chat_id}", "announce", ticket.id,
            {**args, "can_take": can_take,
             "mayor_view": chat_id in mayors and not can_take
             and reason in (Action.ROUTE.value, Action.TRANSFER.value)}))
    return len(recipients)
