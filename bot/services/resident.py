"""What a resident can do with their requests, and what they are told about them.

Use cases with `deps` live in `resident_forms` and `resident_requests`; they call these
inside their transaction. Every message to someone else (staff, the
resident when staff acted) goes through the outbox in the same transaction.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from bot.deps import Deps
from bot.domain import sla
from bot.domain.models import Neighbourhood, Ticket
from bot.domain.notices import Notice, NoticeKind, when
from bot.domain.text import rank_places
from bot.domain.tickets import Action, CloseReason, Status, allowed
from bot.i18n import N_
from bot.services import windows
from bot.services.errors import Refused
from bot.services.tickets import Actor, AttachmentIn, announce, apply
from storage import places, roles_query
from storage import tickets as repo
from storage.conn import Conn

CLOSED = N_("This request is already closed.")
EXPIRED = N_("This menu has expired.")
RATED = N_("You have already rated this request.")
TOO_LATE = N_("This request can no longer be reopened. Please send a new request.")


async def owned_ticket(conn: Conn, ticket_id: int, resident_id: int
                       ) -> Ticket | None:
    """A ticket only if it belongs to this resident: others' tickets look like missing ones."""
    ticket = await repo.get(conn, ticket_id)
    return ticket if ticket is not None and ticket.resident_id == resident_id else None


async def owned_by_code(conn: Conn, code: str, resident_id: int
                        ) -> Ticket | None:
    ticket = await repo.by_code(conn, code)
    return ticket if ticket is not None and ticket.resident_id == resident_id else None


# ------------------------------------------------------------------ finding a neighbourhood

async def search_neighbourhoods(conn: Conn, query: str, limit: int = 8
                                ) -> list[Neighbourhood]:
    """Neighbourhoods matching a typed name of the neighbourhood, its city or province."""
    names = await places.place_names(conn)
    found = []
    for nid in rank_places(query, names, limit=limit):
        item = await places.neighbourhood(conn, nid)
        if item is not None:
            found.append(item)
    return found


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; plenty precise for 'which neighbourhood is near me'."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


async def nearest_neighbourhoods(conn: Conn, lat: float, lon: float,
                                 limit: int = 5) -> list[tuple[Neighbourhood, float]]:
    items = await places.neighbourhoods_with_coordinates(conn)
    ranked = sorted(((n, _km(lat, lon, n.lat or 0.0, n.lon or 0.0)) for n in items),
                    key=lambda pair: pair[1])
    return ranked[:limit]


# ------------------------------------------------------------------ follow-ups and withdraw

async def _staff_chats(conn: Conn, ticket: Ticket) -> list[int]:
    """Whoever works on the ticket: its assignee, else the house staff and groups of the area."""
    if ticket.assignee_id is not None:
        return [ticket.assignee_id]
    staff = await roles_query.people_with_role(conn, "staff", ticket.neighbourhood_id,
                                               ticket.house_id)
    groups = await roles_query.bound_groups(conn, ticket.house_id, ticket.neighbourhood_id)
    return list(dict.fromkeys([*staff, *groups]))


async def add_resident_message(conn: Conn, deps: Deps, ticket: Ticket,
                               resident_id: int, body: str,
                               attachments: list[AttachmentIn]) -> Ticket:
    """A follow-up or an answer from the resident. Answering a question resumes the clock."""
    if not allowed(ticket.status, Action.RESIDENT_MESSAGE):
        raise Refused(CLOSED)
    changes: dict[str, Any] = {}
    if ticket.status is Status.AWAITING_RESIDENT:
        changes = windows.resume(deps, ticket, deps.clock.now())
    updated, event_id = await apply(conn, deps, ticket, Action.RESIDENT_MESSAGE,
                                    Actor(resident_id, "resident"), body=body,
                                    details={"attachments": len(attachments)}, **changes)
    for item in attachments:
        await repo.add_attachment(conn, ticket_id=ticket.id, event_id=event_id, kind=item.kind,
                                  file_id=item.file_id, file_unique_id=item.file_unique_id,
                                  caption=item.caption, now=deps.clock.now())
    args = {"code": updated.code, "body": body, "attachments": len(attachments)}
    for chat_id in await _staff_chats(conn, updated):
        await deps.outbox.notify(conn, Notice(NoticeKind.FOLLOWUP, chat_id,
                                              f"followup:{event_id}:{chat_id}", "followup",
                                              updated.id, args))
    return updated


async def withdraw(conn: Conn, deps: Deps, ticket: Ticket,
                   resident_id: int) -> Ticket:
    if not allowed(ticket.status, Action.WITHDRAW):
        raise Refused(CLOSED)
    changes: dict[str, Any] = sla.on_close(deps.clock.now())
    updated, event_id = await apply(conn, deps, ticket, Action.WITHDRAW,
                                    Actor(resident_id, "resident"),
                                    close_reason=CloseReason.WITHDRAWN, **changes)
    for chat_id in await _staff_chats(conn, updated):
        await deps.outbox.notify(conn, Notice(NoticeKind.WITHDRAWN, chat_id,
                                              f"withdraw:{event_id}:{chat_id}", "withdraw",
                                              updated.id, {"code": updated.code}))
    return updated


# ------------------------------------------------------------------ after closure

def can_reopen(deps: Deps, ticket: Ticket) -> bool:
    if ticket.status is not Status.CLOSED or ticket.close_reason in (
            CloseReason.WITHDRAWN, CloseReason.DUPLICATE):
        return False
    closed = ticket.closed_at or ticket.updated_at
    return deps.clock.now() - closed <= timedelta(days=deps.settings.reopen_days)


async def rate(conn: Conn, deps: Deps, ticket: Ticket, resident_id: int,
               stars: int) -> Ticket:
    if ticket.status is not Status.CLOSED:
        raise Refused(EXPIRED)
    if ticket.rating is not None:
        raise Refused(RATED)
    if not 1 <= stars <= 5:
        raise Refused(EXPIRED)
    updated, _ = await apply(conn, deps, ticket, Action.RATE, Actor(resident_id, "resident"),
                             details={"rating": stars}, rating=stars)
    return updated


async def rate_comment(conn: Conn, deps: Deps, ticket: Ticket,
                       resident_id: int, comment: str) -> Ticket:
    updated, _ = await apply(conn, deps, ticket, Action.RATE, Actor(resident_id, "resident"),
                             body=comment, details={"comment": True},
                             rating_comment=comment)
    return updated


async def reopen(conn: Conn, deps: Deps, ticket: Ticket, resident_id: int,
                 reason: str) -> Ticket:
    """Not resolved: same house, a fresh window, and the staff are told why."""
    if not can_reopen(deps, ticket):
        raise Refused(TOO_LATE)
    changes: dict[str, Any] = windows.reopen(deps, ticket, deps.clock.now())
    updated, _ = await apply(conn, deps, ticket, Action.REOPEN, Actor(resident_id, "resident"),
                             body=reason, reopen_count=ticket.reopen_count + 1, **changes)
    await announce(conn, deps, updated, reason="reopen")
    return updated


# ------------------------------------------------------------------ telling the resident

async def tell_resident(conn: Conn, deps: Deps, ticket: Ticket, event_id: int,
                        *, body: str | None = None) -> None:
    """One message to the resident about a change staff made (status, reply, question,
    closing). Replying to it in Telegram attaches the reply to the ticket. A closed ticket
    comes with the rating / "not resolved" buttons."""
    closing = ticket.status is Status.CLOSED and ticket.close_reason is not CloseReason.WITHDRAWN
    await notify_resident(conn, deps, ticket, event_id, "update", NoticeKind.UPDATE,
                          closing=closing, status=ticket.status.value,
                          close_reason=ticket.close_reason.value if ticket.close_reason else None,
                          body=body, due=when(ticket.due_at))


async def notify_resident(conn: Conn, deps: Deps, ticket: Ticket,
                          event_id: int, kind: str, notice: NoticeKind, *,
                          closing: bool = False, **args: Any) -> None:
    """The one way a staff change reaches the resident: keyed by the event (exactly once),
    tagged with the ticket (a Telegram reply to it comes back to this ticket), and with the
    rating / "not resolved" buttons when the request was closed and is not rated yet.
    `args` are the notice's facts besides the code (JSON values)."""
    await deps.outbox.notify(conn, Notice(
        notice, ticket.resident_id, f"resident:{event_id}", kind, ticket.id,
        {"code": ticket.code, **args, "rate": closing and ticket.rating is None}))
