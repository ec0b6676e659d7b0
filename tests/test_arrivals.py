"""An update's arrival: the claim and the sender's row in one statement, the person's row
written only when it is missing or out of date."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import Settings
from bot.deps import Deps
from bot.outbox import Outbox
from bot.services import people as people_svc
from storage import arrivals, people, updates
from storage.db import Database


@pytest.fixture
async def deps(tmp_path: Path) -> Deps:
    db = Database(tmp_path / "a.sqlite3")
    await db.open()
    clock = FakeClock()
    deps = Deps(settings=Settings(_env_file=None), db=db, clock=clock,  # type: ignore[call-arg]
                outbox=Outbox(db, clock))
    yield deps  # type: ignore[misc]
    await db.close()


async def test_claim_returns_the_stored_row_and_roles_or_none_for_a_repeat(deps: Deps
                                                                            ) -> None:
    now = deps.clock.now()
    async with deps.db.autocommit() as conn:
        first = await arrivals.claim(conn, 1, 5, now)
        assert first is not None and first.person is None and first.roles == []
        assert await arrivals.claim(conn, 1, 5, now) is None          # a repeat
        await people.upsert(conn, 5, "Sara", "sara", now)
        await conn.execute("INSERT INTO roles(person_id, role, scope_kind, created_at) "
                           "VALUES (5, 'staff', 'all', ?)", (now.isoformat(),))
        found = await arrivals.claim(conn, 2, 5, now)
        assert found is not None and found.person is not None
        assert found.person == await people.get(conn, 5)
        assert [r.role for r in found.roles] == ["staff"]
        anonymous = await arrivals.claim(conn, 3, None, now)
        assert anonymous is not None and anonymous.person is None
        assert not await updates.claim(conn, 3, now)                  # the same claim


async def test_a_known_unchanged_person_is_not_written(deps: Deps,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    first = await people_svc.arrive(deps, 1, (5, "Sara", "sara"))
    assert first is not None and first.person.first_name == "Sara"
    created = first.person.updated_at
    deps.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    upsert = people_svc.people.arrive

    async def not_expected(*args: object) -> object:
        raise AssertionError("the claim alone should do for a known, unchanged person")

    monkeypatch.setattr(people_svc.people, "arrive", not_expected)
    again = await people_svc.arrive(deps, 2, (5, "Sara", "sara"))
    assert again is not None and again.person == first.person
    monkeypatch.setattr(people_svc.people, "arrive", upsert)
    with pytest.raises(people_svc.SeenBefore):
        await people_svc.arrive(deps, 2, (5, "Sara", "sara"))
    renamed = await people_svc.arrive(deps, 3, (5, "Sara B.", None))
    assert renamed is not None and renamed.person.first_name == "Sara B."
    assert renamed.person.username is None and renamed.person.updated_at > created


async def test_arriving_clears_the_unreachable_mark(deps: Deps) -> None:
    await people_svc.arrive(deps, 1, (5, "Sara", None))
    await people_svc.mark_unreachable(deps, 5)
    async with deps.db.read() as conn:
        assert await people.is_unreachable(conn, 5)
    back = await people_svc.arrive(deps, 2, (5, "Sara", None))
    assert back is not None and back.person.unreachable_at is None
    async with deps.db.read() as conn:
        assert not await people.is_unreachable(conn, 5)
