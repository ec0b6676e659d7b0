"""Shared setup for the staff, mayor and admin tests: people with roles and filed tickets."""

from __future__ import annotations

from bot.domain.models import Ticket
from bot.domain.tickets import Kind
from bot.services.tickets import Draft, file_ticket
from storage import people, places
from storage import tickets as repo
from tests.harness import Harness

RESIDENT = 8001
MAYOR = 8002
STAFF = 8003          # welfare, ISL01
STAFF2 = 8004         # welfare, ISL01 (same team)
OTHER_HOUSE = 8005    # relief, ISL01
OTHER_AREA = 8006     # welfare, ISL02
SUPERVISOR = 8007     # welfare, city islamshahr


async def add_role(h: Harness, person: int, role: str, house: str | None, kind: str,
                   code: str | None, name: str = "کارمند") -> None:
    h.user(person, name)
    async with h.deps.db.tx() as conn:
        await people.upsert(conn, person, name, None, h.clock.now())
        house_id = None
        if house:
            found = await places.house_by_code(conn, house)
            assert found
            house_id = found.id
        scope_id = None
        if kind == "neighbourhood":
            n = await places.neighbourhood_by_code(conn, code or "")
            assert n
            scope_id = n.id
        elif kind == "city":
            from storage.invites import city_id

            scope_id = await city_id(conn, code or "")
        await people.add_role(conn, person, role, house_id=house_id, scope_kind=kind,
                              scope_id=scope_id, created_by=None, now=h.clock.now())


async def team(h: Harness) -> None:
    await add_role(h, MAYOR, "mayor", None, "neighbourhood", "ISL01", "مریم")
    await add_role(h, STAFF, "staff", "welfare", "neighbourhood", "ISL01", "علی")
    await add_role(h, STAFF2, "staff", "welfare", "neighbourhood", "ISL01", "رضا")
    await add_role(h, OTHER_HOUSE, "staff", "relief", "neighbourhood", "ISL01", "سارا")
    await add_role(h, OTHER_AREA, "staff", "welfare", "neighbourhood", "ISL02", "نرگس")
    await add_role(h, SUPERVISOR, "supervisor", "welfare", "city", "islamshahr", "حسن")


_counter = [0]


async def file(h: Harness, *, category: str = "housing", neighbourhood: str = "ISL01",
               text: str = "سقف خانه چکه می‌کند", phone: str | None = None,
               resident: int = RESIDENT) -> Ticket:
    h.user(resident, "زهرا")
    async with h.deps.db.tx() as conn:
        await people.upsert(conn, resident, "زهرا", None, h.clock.now())
        n = await places.neighbourhood_by_code(conn, neighbourhood)
        c = await places.category_by_code(conn, category)
    assert n and c
    _counter[0] += 1
    ticket, _ = await file_ticket(h.deps, Draft(resident_id=resident, neighbourhood_id=n.id,
                                                kind=Kind.NEED, category_id=c.id, text=text,
                                                phone=phone),
                                  idem_key=f"t{_counter[0]}")
    await h.settle()
    return ticket


async def reload(h: Harness, ticket: Ticket) -> Ticket:
    async with h.deps.db.read() as conn:
        fresh = await repo.get(conn, ticket.id)
    assert fresh
    return fresh


async def events(h: Harness, ticket: Ticket) -> list[str]:
    async with h.deps.db.read() as conn:
        return [e.action for e in await repo.events(conn, ticket.id, public_only=False)]


def texts(messages: list[dict]) -> str:  # type: ignore[type-arg]
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)
