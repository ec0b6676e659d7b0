"""Scope and privacy: out of scope looks exactly like not existing; take races; forged data."""

from __future__ import annotations

import asyncio

from bot.services import staff as svc
from bot.services.roles import scope_for
from bot.services.staff import Ref, Refused
from storage import people
from tests.harness import Harness
from tests.staff_helpers import (
    MAYOR,
    OTHER_AREA,
    OTHER_HOUSE,
    STAFF,
    STAFF2,
    SUPERVISOR,
    events,
    file,
    reload,
    team,
    texts,
)

COMMANDS = ["/show {c}", "/take {c}", "/reply {c} سلام", "/ask {c} سؤال", "/note {c} یادداشت",
            "/transfer {c} relief دلیل", "/close {c} resolved پیام", "/close {c}",
            "/reopen {c}"]


async def test_out_of_scope_is_exactly_like_missing(h: Harness) -> None:
    await team(h)
    ticket = await file(h, phone="09121234567")
    for outsider in (OTHER_HOUSE, OTHER_AREA):
        for template in COMMANDS:
            real = texts(await h.send(outsider, template.format(c=ticket.code)))
            missing = texts(await h.send(outsider, template.format(c="ACDEFH")))
            assert real.replace(ticket.code, "ACDEFH") == missing, (outsider, template)
            assert "پیدا نشد" in real, template
        assert ticket.code not in texts(await h.send(outsider, "/queue"))
        assert "پیدا نشد" in texts(await h.send(outsider, f"/search {ticket.code}"))
        assert "پیدا نشد" in texts(await h.send(outsider, "/search 09121234567"))
        assert "پیدا نشد" in texts(await h.send(outsider, "/search سقف"))
    assert await events(h, ticket) == ["file"]
    fresh = await reload(h, ticket)
    assert fresh.assignee_id is None and fresh.house_id == ticket.house_id
    # forged buttons for the ticket act for nobody outside the scope
    message = h.last(OTHER_HOUSE)
    for data in (f"st:take:{ticket.id}", f"ticket:take:{ticket.id}", f"st:reopen:{ticket.id}",
                 f"st:cr:{ticket.id}:resolved", f"mb:dup:{ticket.id}", "st:take:abc"):
        await h.press_data(OTHER_HOUSE, message["message_id"], data, force=True)
    assert (await reload(h, ticket)).assignee_id is None


async def test_phone_only_for_staff_in_scope(h: Harness) -> None:
    await team(h)
    ticket = await file(h, phone="09121234567")
    assert "09121234567" in texts(await h.send(STAFF, f"/show {ticket.code}"))
    assert "09121234567" in texts(await h.send(SUPERVISOR, f"/show {ticket.code}"))
    mayor_view = texts(await h.send(MAYOR, f"/show {ticket.code}"))
    assert ticket.code in mayor_view and "09121234567" not in mayor_view
    no_phone = await file(h)
    assert "تلفن" not in texts(await h.send(STAFF, f"/show {no_phone.code}"))


async def test_concurrent_take_one_wins_other_told_who(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    async with h.deps.db.read() as conn:
        roles_a = await people.active_roles(conn, STAFF)
        roles_b = await people.active_roles(conn, STAFF2)
        scope_a = await scope_for(conn, STAFF, roles_a, chat_id=STAFF, group=False)
        scope_b = await scope_for(conn, STAFF2, roles_b, chat_id=STAFF2, group=False)
    results = await asyncio.gather(svc.take(h.deps, scope_a, Ref(ticket_id=ticket.id)),
                                   svc.take(h.deps, scope_b, Ref(ticket_id=ticket.id)),
                                   return_exceptions=True)
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, Refused)]
    assert len(winners) == 1 and len(losers) == 1
    assert "علی" in losers[0].values["name"]
    assert (await events(h, ticket)).count("take") == 1


async def test_two_users_press_take_together(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    a = h.emu.press(STAFF, h.last(STAFF)["message_id"], f"ticket:take:{ticket.id}")
    b = h.emu.press(STAFF2, h.last(STAFF2)["message_id"], f"ticket:take:{ticket.id}")
    await asyncio.gather(h._processed(a.update_id), h._processed(b.update_id))
    fresh = await reload(h, ticket)
    assert fresh.assignee_id in (STAFF, STAFF2)
    loser = STAFF2 if fresh.assignee_id == STAFF else STAFF
    assert "مسئول رسیدگی" in h.last(loser)["text"]
    assert (await events(h, ticket)).count("take") == 1


async def test_group_binding_shares_queue(h: Harness) -> None:
    await team(h)
    group = -100500
    h.emu.add_group(group, "تیم بهزیستی")
    unbound = await h.send(STAFF, "/queue", chat_id=group)
    assert "/bind" in texts(unbound)
    assert "فقط" in texts(await h.send(MAYOR, "/bind", chat_id=group))
    await h.send(STAFF, "/bind", chat_id=group)
    ticket = await file(h)
    assert ticket.code in h.last(group)["text"]              # announced to the group
    queue = texts(await h.send(STAFF2, "/queue", chat_id=group))
    assert ticket.code in queue
    other = texts(await h.send(OTHER_HOUSE, f"/take {ticket.code}", chat_id=group))
    assert "/bind" in other                                   # not their house's group
    await h.send(STAFF2, f"/take {ticket.code}", chat_id=group)
    assert (await reload(h, ticket)).assignee_id == STAFF2
    await h.send(STAFF, "/unbind", chat_id=group)
    assert "/bind" in texts(await h.send(STAFF, "/queue", chat_id=group))
