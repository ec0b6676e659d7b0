"""The sweep handles due tickets in batches: one broken ticket still rolls back alone."""

from __future__ import annotations

from typing import Any

import pytest

from bot.services import sla as sweeper
from storage import tickets as repo
from storage.base import fetch_value
from tests.harness import Harness
from tests.test_sla import OTHER_STAFF, STAFF, H, count, file, hs, setup_people, tick

__all__ = ["hs"]


async def test_broken_ticket_is_retried_alone(hs: Harness, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    h = hs
    draft = await setup_people(h)
    good = await file(h, draft, "d1")
    broken = await file(h, draft, "d2")
    real = sweeper._reminder_args

    async def flaky(conn: Any, deps: Any, cache: Any, ticket: Any) -> Any:
        if ticket.id == broken.id:
            raise RuntimeError("broken ticket")
        return await real(conn, deps, cache, ticket)

    monkeypatch.setattr(sweeper, "_reminder_args", flaky)
    await tick(h, 48 * H)                       # T-24h for both
    # The good ticket's reminder went out; the broken one wrote nothing and waits 5 minutes.
    assert count(h, STAFF, good.code) == 2 and count(h, STAFF, broken.code) == 1
    async with h.deps.db.read() as conn:
        assert await fetch_value(conn, "SELECT count(*) FROM sla_actions WHERE ticket_id = ?",
                                 (broken.id,)) == 0
        assert await fetch_value(conn, "SELECT count(*) FROM ticket_events WHERE ticket_id = ?"
                                 " AND action = 'sla'", (broken.id,)) == 0
        current = await repo.get(conn, broken.id)
    assert current and current.sla_next_at == h.clock.now() + sweeper.RETRY_BROKEN
    monkeypatch.setattr(sweeper, "_reminder_args", real)
    await tick(h, sweeper.RETRY_BROKEN)         # retried once fixed: its reminder, once
    for chat in (STAFF, OTHER_STAFF):
        assert count(h, chat, "⏰") == 2
        assert count(h, chat, broken.code) == 2 and count(h, chat, good.code) == 2
    await tick(h, H)
    assert count(h, STAFF, "⏰") == 2
