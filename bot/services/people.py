"""Who is writing: each update claimed once, its sender recorded with their roles; their
language."""

from __future__ import annotations

from dataclasses import dataclass

from bot.deps import Deps
from bot.domain.models import Person, Role
from storage import arrivals, people


class SeenBefore(Exception):
    """This update was handled before (Telegram sent it again)."""


@dataclass(frozen=True)
class Arrival:
    person: Person
    roles: list[Role]


async def arrive(deps: Deps, update_id: int, user: tuple[int, str, str | None] | None
                 ) -> Arrival | None:
    """Claim the update (SeenBefore: handled already) and record who sent it (`user`: id,
    first name, username; None for channels and bots: nothing to record).

    One statement for most updates, committing on its own (this runs for every update): the
    claim, with the sender's row and active roles read in its RETURNING. A second one only
    when the row is missing or out of date (a new person, a changed name, an unreachable
    mark to clear): the upsert, again with the roles in its RETURNING. A crash between them
    leaves the update claimed, as a crash during its handler would."""
    now = deps.clock.now()
    async with deps.db.autocommit() as conn:
        arrived = await arrivals.claim(conn, update_id, None if user is None else user[0],
                                       now)
        if arrived is None:
            raise SeenBefore
        if user is None:
            return None
        person = arrived.person
        if (person is not None and person.first_name == user[1]
                and person.username == user[2] and person.unreachable_at is None):
            return Arrival(person, arrived.roles)
        person, roles = await people.arrive(conn, user[0], user[1], user[2], now)
    return Arrival(person, roles)


async def set_language(deps: Deps, person_id: int, locale: str) -> None:
    async with deps.db.autocommit() as conn:     # one statement: atomic on its own
        await people.set_locale(conn, person_id, locale, deps.clock.now())


async def mark_unreachable(deps: Deps, person_id: int) -> None:
    """Telegram answered 403 to a direct reply: the person blocked the bot (staff see it)."""
    async with deps.db.tx() as conn:
        await people.mark_unreachable(conn, person_id, deps.clock.now())
