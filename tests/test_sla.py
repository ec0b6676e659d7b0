"""The 72-hour window end to end: the sweep, driven by the fake clock, through the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain import sla as clock_rules
from bot.domain.models import Ticket
from bot.domain.tickets import Action, Kind
from bot.i18n import translator
from bot.services.sla import run_digest, sweep
from bot.services.tickets import SYSTEM, Actor, Draft, apply, file_ticket
from bot.ui.sla_badge import sla_badge
from storage import people, places
from storage import tickets as repo
from storage.base import fetch_value
from tests.harness import Harness, restart, start_harness, stop_harness

RESIDENT, MAYOR, STAFF, SUPERVISOR, OTHER_STAFF = 8001, 8002, 8003, 8004, 8005
ADMIN_CHAT, TEAM_GROUP = -1009001, -1009002
H = timedelta(hours=1)


@pytest.fixture
async def hs(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    harness = await start_harness(tmp_path, admin_chat_id=ADMIN_CHAT, database_url=database_url)
    try:
        yield harness
    finally:
        await stop_harness(harness)


async def setup_people(h: Harness, *, staff: bool = True, supervisor: bool = True) -> Draft:
    for uid, name in ((RESIDENT, "زهرا"), (MAYOR, "مریم"), (STAFF, "علی"),
                      (SUPERVISOR, "رضا"), (OTHER_STAFF, "سارا")):
        h.user(uid, name)
    h.emu.add_group(chat_id=ADMIN_CHAT, title="Admins")
    h.emu.add_group(chat_id=TEAM_GROUP, title="Team")
    now = h.clock.now()
    async with h.deps.db.tx() as conn:
        n = await places.neighbourhood_by_code(conn, "ISL01")
        c = await places.category_by_code(conn, "housing")
        assert n and c
        house_id = await places.house_for(conn, n.id, c.id)
        for uid in (RESIDENT, MAYOR, STAFF, SUPERVISOR, OTHER_STAFF):
            await people.upsert(conn, uid, "x", None, now)
        await people.add_role(conn, MAYOR, "mayor", house_id=None, scope_kind="neighbourhood",
                              scope_id=n.id, created_by=None, now=now)
        if staff:
            await people.add_role(conn, STAFF, "staff", house_id=house_id,
                                  scope_kind="neighbourhood", scope_id=n.id, created_by=None,
                                  now=now)
            await people.add_role(conn, OTHER_STAFF, "staff", house_id=house_id,
                                  scope_kind="city", scope_id=n.city_id, created_by=None,
                                  now=now)
        if supervisor:
            await people.add_role(conn, SUPERVISOR, "supervisor", house_id=house_id,
                                  scope_kind="all", scope_id=None, created_by=None, now=now)
    return Draft(resident_id=RESIDENT, neighbourhood_id=n.id, kind=Kind.NEED,
                 category_id=c.id, text="سقف خانه چکه می‌کند")


async def file(h: Harness, draft: Draft, key: str = "d1") -> Ticket:
    ticket, _ = await file_ticket(h.deps, draft, idem_key=key)
    await h.settle()
    return ticket


def texts(h: Harness, chat: int) -> list[str]:
    return [m["text"] for m in h.messages(chat)]


def count(h: Harness, chat: int, needle: str) -> int:
    return sum(needle in t for t in texts(h, chat))


async def tick(h: Harness, advance: timedelta) -> None:
    h.clock.advance(advance)
    await sweep(h.deps)
    await h.settle()


async def test_reminders_then_breach_then_second_escalation(hs: Harness) -> None:
    h = hs
    ticket = await file(h, await setup_people(h))
    await tick(h, 47 * H)                       # T-25h: nothing yet
    assert count(h, STAFF, "⏰") == 0
    await tick(h, H)                            # T-24h: the house team (nobody took it)
    for chat in (STAFF, OTHER_STAFF):
        assert count(h, chat, "⏰") == 1
        assert "۱ روز" in h.last(chat)["text"] and ticket.code in h.last(chat)["text"]
    assert count(h, MAYOR, "⏰") == 0 and count(h, RESIDENT, "⏰") == 0
    # Someone takes it: the T-6h reminder goes to the assignee only.
    async with h.deps.db.tx() as conn:
        current = await repo.get(conn, ticket.id)
        assert current
        await apply(conn, h.deps, current, Action.TAKE, Actor(STAFF, "staff"),
                    assignee_id=STAFF)
    await tick(h, 17 * H)
    await tick(h, H)                            # T-6h
    assert count(h, STAFF, "⏰") == 2 and count(h, OTHER_STAFF, "⏰") == 1
    assert "۶ ساعت" in h.last(STAFF)["text"]
    await tick(h, 6 * H)                        # deadline: escalation + resident told
    assert count(h, MAYOR, "🚨") == 1 and count(h, SUPERVISOR, "🚨") == 1
    assert count(h, RESIDENT, "😔") == 1 and ticket.code in h.last(RESIDENT)["text"]
    assert "۷۲ ساعت" in h.last(RESIDENT)["text"]
    assert count(h, ADMIN_CHAT, "🚨") == 0      # a supervisor exists
    assert "علی" in h.last(MAYOR)["text"] or "x" in h.last(MAYOR)["text"]
    for _ in range(3):                          # further ticks change nothing
        await tick(h, H)
    assert count(h, MAYOR, "🚨") == 1 and count(h, RESIDENT, "😔") == 1
    await tick(h, 21 * H)                       # 24 h after the breach: admin chat
    assert count(h, ADMIN_CHAT, "🚨") == 1
    assert "Second escalation" not in h.last(ADMIN_CHAT)["text"]   # Persian by default
    await tick(h, 48 * H)
    assert count(h, ADMIN_CHAT, "🚨") == 1 and count(h, MAYOR, "🚨") == 1
    async with h.deps.db.read() as conn:
        history = await repo.events(conn, ticket.id, public_only=False)
        public = await repo.events(conn, ticket.id, public_only=True)
        final = await repo.get(conn, ticket.id)
    assert [e.details["sla"] for e in history if e.action == "sla"] == [
        "remind_24", "remind_6", "breach", "escalate2"]
    assert [e.details["sla"] for e in public if e.action == "sla"] == ["breach"]
    assert final and final.sla_next_at is None


async def test_no_team_no_supervisor_falls_back_to_mayor_and_admin_chat(hs: Harness) -> None:
    h = hs
    await file(h, await setup_people(h, staff=False, supervisor=False))
    await tick(h, 48 * H)
    assert count(h, MAYOR, "⏰") == 1           # nobody of the house covers the area
    await tick(h, 24 * H)
    assert count(h, MAYOR, "🚨") == 1 and count(h, ADMIN_CHAT, "🚨") == 1


async def test_restart_between_sweeps_sends_nothing_twice(hs: Harness) -> None:
    h = hs
    ticket = await file(h, await setup_people(h))
    await tick(h, 48 * H)
    assert count(h, STAFF, "⏰") == 1
    # The sla_next_at bookkeeping is lost (as if a crash happened after the actions were
    # recorded): the actions table alone must keep them from repeating.
    async with h.deps.db.tx() as conn:
        await conn.execute("UPDATE tickets SET sla_next_at = ? WHERE id = ?",
                           (h.clock.now().isoformat(), ticket.id))
    await restart(h)
    await tick(h, timedelta(minutes=1))
    await restart(h)
    await tick(h, 18 * H)                       # T-6h (and a minute)
    await restart(h)
    await tick(h, 6 * H)                        # breach
    await restart(h)
    await tick(h, H)
    assert count(h, STAFF, "⏰") == 2            # 24 h and 6 h, once each
    assert count(h, MAYOR, "🚨") == 1 and count(h, RESIDENT, "😔") == 1


async def test_downtime_catch_up_escalates_once_without_a_burst(hs: Harness) -> None:
    h = hs
    ticket = await file(h, await setup_people(h))
    await tick(h, 100 * H)                      # the bot was down for 100 hours
    assert count(h, STAFF, "⏰") == 0            # stale reminders are not sent
    assert count(h, MAYOR, "🚨") == 1 and count(h, SUPERVISOR, "🚨") == 1
    assert count(h, RESIDENT, "😔") == 1
    assert count(h, ADMIN_CHAT, "🚨") == 0      # the second one comes a day later
    await tick(h, 24 * H)
    assert count(h, ADMIN_CHAT, "🚨") == 1
    async with h.deps.db.read() as conn:
        assert await fetch_value(conn, "SELECT count(*) FROM sla_actions WHERE ticket_id=?",
                                 (ticket.id,)) == 2


async def test_ask_pauses_the_clock_and_answer_resumes_it(hs: Harness) -> None:
    h = hs
    ticket = await file(h, await setup_people(h))
    settings = h.deps.settings
    await tick(h, 10 * H)
    async with h.deps.db.tx() as conn:
        current = await repo.get(conn, ticket.id)
        assert current
        await apply(conn, h.deps, current, Action.ASK, Actor(STAFF, "staff"),
                    body="آدرس دقیق؟", **clock_rules.on_pause(h.clock.now()))
    await tick(h, 100 * H)                      # paused: no reminder, no breach
    assert count(h, STAFF, "⏰") == 0 and count(h, MAYOR, "🚨") == 0
    async with h.deps.db.read() as conn:
        paused = await repo.get(conn, ticket.id)
    assert paused and sla_badge(translator("en"), paused, h.clock.now()).startswith("⏸")
    async with h.deps.db.tx() as conn:
        current = await repo.get(conn, ticket.id)
        assert current
        changes = clock_rules.on_resume(current.paused_at, current.due_at,
                                        current.first_response_at, settings.reminder_hours,
                                        h.clock.now())
        resumed, _ = await apply(conn, h.deps, current, Action.RESIDENT_MESSAGE,
                                 Actor(RESIDENT, "resident"), body="کوچه ۵", **changes)
    assert resumed.due_at == ticket.due_at + 100 * H
    assert sla_badge(translator("en"), resumed, h.clock.now()) == "⏳ due in 2 days 14 hours"
    assert sla_badge(translator("fa"), resumed, h.clock.now()) == "⏳ ۲ روز و ۱۴ ساعت تا مهلت پاسخ"
    await tick(h, 37 * H)                       # 62 h left - 38 h = 24 h left
    assert count(h, STAFF, "⏰") == 0
    await tick(h, H)
    assert count(h, STAFF, "⏰") == 1
    assert sla_badge(translator("en"), resumed, h.clock.now()) == "⏳ due in 1 day"
    await tick(h, 25 * H)
    assert sla_badge(translator("en"), resumed, h.clock.now()) == "🔴 overdue 1 hour"


async def test_public_answer_stops_the_clock(h: Harness) -> None:
    ticket = await file(h, await setup_people(h))
    async with h.deps.db.tx() as conn:
        current = await repo.get(conn, ticket.id)
        assert current
        answered, _ = await apply(conn, h.deps, current, Action.REPLY, Actor(STAFF, "staff"),
                                  body="درست شد", **clock_rules.on_public_reply(
                                      current.first_response_at, h.clock.now()))
    await tick(h, 200 * H)
    assert count(h, STAFF, "⏰") == 0 and count(h, MAYOR, "🚨") == 0
    assert sla_badge(translator("en"), answered, h.clock.now()) == "✅ answered in time"


async def test_daily_digest_per_mayor_and_house_team(hs: Harness) -> None:
    h = hs
    draft = await setup_people(h)
    async with h.deps.db.tx() as conn:
        n = await places.neighbourhood_by_code(conn, "ISL01")
        assert n
        house_id = await places.house_for(conn, n.id, draft.category_id)
        await conn.execute("""INSERT INTO group_bindings(chat_id, house_id, scope_kind, scope_id,
            bound_by, created_at) VALUES (?, ?, 'neighbourhood', ?, ?, ?)""",
            (TEAM_GROUP, house_id, n.id, MAYOR, h.clock.now().isoformat()))
    old = await file(h, draft, "a")
    h.clock.advance(60 * H)
    soon = await file(h, draft, "b")            # due in 72 h
    h.clock.advance(13 * H)                     # old: overdue 1 h; soon: due in 59 h
    third = await file(h, draft, "c")
    async with h.deps.db.tx() as conn:          # one closed ticket is not counted
        current = await repo.get(conn, third.id)
        assert current
        await apply(conn, h.deps, current, Action.CLOSE, SYSTEM)
    h.clock.advance(36 * H)                     # soon: due in 23 h
    assert await run_digest(h.deps) == 4        # mayor, two staff, the bound group
    await h.settle()
    for chat in (MAYOR, STAFF, OTHER_STAFF, TEAM_GROUP):
        text = h.last(chat)["text"]
        assert text.startswith("📊"), text
        assert "درخواست‌های باز: ۲" in text
        assert "مهلت تا ۲۴ ساعت آینده: ۱" in text and "گذشته از مهلت: ۱" in text
        assert old.code in text and soon.code in text
    assert all("📊" not in t for t in texts(h, RESIDENT))
    assert await run_digest(h.deps) == 0        # once per day
