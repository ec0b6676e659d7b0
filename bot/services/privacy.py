"""Keeping the consent's promise: requests are anonymised RETENTION_DAYS after closing (a
daily job), and a resident may erase their personal data at once (/forget_me). Statistics
keep what they need: category, house, neighbourhood, dates, status and outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.deps import Deps
from bot.services import resident as conn_level
from storage import people, privacy

BATCH = 200
MAX_BATCHES = 50


async def anonymise_due(deps: Deps) -> int:
    """Anonymise every request closed more than RETENTION_DAYS ago; returns how many."""
    before = deps.clock.now() - timedelta(days=deps.settings.retention_days)
    done = 0
    for _ in range(MAX_BATCHES):
        async with deps.db.tx() as conn:
            ids = await privacy.closed_before(conn, before, BATCH)
            now = deps.clock.now()
            for ticket_id in ids:
                await privacy.anonymise_ticket(conn, ticket_id, now)
            await privacy.forget_residents_without_requests(conn, ids, now)
        done += len(ids)
        if len(ids) < BATCH:
            break
    return done


@dataclass(frozen=True)
class ForgetPreview:
    """What /forget_me will do: withdraw `open_codes` first, then erase `total` requests."""

    open_codes: list[str]
    total: int


@dataclass(frozen=True)
class Forgotten:
    withdrawn: list[str]
    erased: int


async def forget_preview(deps: Deps, person_id: int) -> ForgetPreview:
    async with deps.db.read() as conn:
        mine = await privacy.own_requests(conn, person_id)
    return ForgetPreview([t.code for t in mine if t.is_open], len(mine))


async def forget_me(deps: Deps, person_id: int) -> Forgotten:
    """In one transaction: open requests withdrawn (their staff are told), then every request
    of this resident anonymised and their own data (name unless they hold a role, phone,
    consent, form) erased. Requests they filed for others at a field visit (not claimed
    yet) are not theirs and stay."""
    now = deps.clock.now()
    withdrawn = []
    async with deps.db.tx() as conn:
        for ticket in await privacy.own_requests(conn, person_id):
            if ticket.is_open:
                await conn_level.withdraw(conn, deps, ticket, person_id)
                withdrawn.append(ticket.code)
        ids = await privacy.by_resident(conn, person_id)
        for ticket_id in ids:
            await privacy.anonymise_ticket(conn, ticket_id, now)
        roles = await people.active_roles(conn, person_id)
        await privacy.forget_person(conn, person_id, now, keep_name=bool(roles))
    return Forgotten(withdrawn, len(ids))
