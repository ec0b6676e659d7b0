"""The shared ticket mechanism: filing is atomic and idempotent, routing announces once."""

from __future__ import annotations

import pytest

from bot.domain.tickets import Action, Kind, Status, TransitionError
from bot.services.tickets import SYSTEM, Draft, apply, file_ticket
from storage import people, places
from storage import tickets as repo
from tests.harness import Harness, buttons

RESIDENT = 7001
MAYOR = 7002


async def _draft(h: Harness) -> Draft:
    h.user(RESIDENT, "زهرا")
    h.user(MAYOR, "مریم")
    async with h.deps.db.tx() as conn:
        n = await places.neighbourhood_by_code(conn, "ISL01")
        c = await places.category_by_code(conn, "housing")
        await people.upsert(conn, RESIDENT, "زهرا", None, h.clock.now())
        await people.upsert(conn, MAYOR, "مریم", None, h.clock.now())
        assert n and c
        await people.add_role(conn, MAYOR, "mayor", house_id=None, scope_kind="neighbourhood",
                              scope_id=n.id, created_by=None, now=h.clock.now())
    return Draft(resident_id=RESIDENT, neighbourhood_id=n.id, kind=Kind.NEED,
                 category_id=c.id, text="سقف خانه چکه می‌کند")


async def test_file_twice_with_same_key_gives_one_ticket_and_one_announcement(h: Harness
                                                                               ) -> None:
    draft = await _draft(h)
    first, created = await file_ticket(h.deps, draft, idem_key="d1")
    second, created_again = await file_ticket(h.deps, draft, idem_key="d1")
    assert created and not created_again and first.id == second.id
    assert first.status is Status.NEW
    assert (first.due_at - first.created_at).total_seconds() == 72 * 3600
    await h.settle()
    mayor_messages = h.messages(MAYOR)
    assert len(mayor_messages) == 1
    assert first.code in mayor_messages[0]["text"]
    # The mayor triages from the card; only house staff get the "Take" button.
    assert [label for label, _ in buttons(mayor_messages[0])] == ["📄 نمایش"]


async def test_apply_checks_the_state_machine_and_records_history(h: Harness) -> None:
    ticket, _ = await file_ticket(h.deps, await _draft(h), idem_key="d2")
    async with h.deps.db.tx() as conn:
        ticket, _ = await apply(conn, h.deps, ticket, Action.CLOSE, SYSTEM)
        with pytest.raises(TransitionError):
            await apply(conn, h.deps, ticket, Action.TAKE, SYSTEM)
        history = await repo.events(conn, ticket.id, public_only=True)
    assert [e.action for e in history] == ["file", "close"]
