"""Routing of each category to its house, and the mayor's triage through the emulator."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.domain.tickets import CloseReason, Status
from storage import places
from tests.harness import Harness
from tests.staff_helpers import (
    MAYOR,
    OTHER_HOUSE,
    RESIDENT,
    STAFF,
    add_role,
    events,
    file,
    reload,
    team,
    texts,
)

CATEGORIES = list(csv.DictReader(io.StringIO(
    (Path(__file__).parent.parent / "data" / "categories.csv").read_text(encoding="utf-8"))))


async def test_every_category_goes_to_its_house_and_its_staff(h: Harness) -> None:
    rows = CATEGORIES
    staff_of = {"welfare": 9101, "relief": 9102, "ehsan": 9103, "redcrescent": 9104}
    for house, person in staff_of.items():
        await add_role(h, person, "staff", house, "neighbourhood", "ISL03")
    for row in rows:
        before = {p: len(h.messages(p)) for p in staff_of.values()}
        ticket = await file(h, category=row["code"], neighbourhood="ISL03")
        async with h.deps.db.read() as conn:
            house = await places.house(conn, ticket.house_id)
        assert house and house.code == row["default_house"], row["code"]
        after = {p: len(h.messages(p)) for p in staff_of.values()}
        told = [p for p in staff_of.values() if after[p] > before[p]]
        assert told == [staff_of[row["default_house"]]], row["code"]


async def test_unowned_ticket_tells_mayor_and_admin_chat(tmp_path: Path,
                                                          database_url: str) -> None:
    from tests.harness import start_harness, stop_harness

    h = await start_harness(tmp_path, admin_chat_id=9900, database_url=database_url)
    try:
        h.user(9900, "ادمین")
        await add_role(h, MAYOR, "mayor", None, "neighbourhood", "ISL05")
        ticket = await file(h, neighbourhood="ISL05")
        assert ticket.code in h.last(MAYOR)["text"] and "⚠️" in h.last(MAYOR)["text"]
        assert ticket.code in h.last(9900)["text"]
    finally:
        await stop_harness(h)


async def test_inbox_reroute_with_reason_by_buttons(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    inbox = (await h.send(MAYOR, "/inbox"))[0]
    assert ticket.code in inbox["text"] and "تا مهلت پاسخ" in inbox["text"]
    card = (await h.press(MAYOR, inbox, ticket.code))[0]
    assert "09" not in card["text"]
    houses = (await h.press(MAYOR, card, "تغییر خانه"))[0]
    prompt = (await h.press(MAYOR, houses, "امداد"))[0]
    before = len(h.messages(OTHER_HOUSE))
    await h.send(MAYOR, "درخواست وام است", reply_to=prompt["message_id"])
    fresh = await reload(h, ticket)
    assert fresh.status is Status.NEW and fresh.due_at == ticket.due_at
    await h.settle()
    assert len(h.messages(OTHER_HOUSE)) == before + 1
    assert "امداد" in h.last(RESIDENT)["text"]
    assert await events(h, ticket) == ["file", "route"]
    history = texts(await h.send(MAYOR, f"/show {ticket.code}"))
    assert "درخواست وام است" in history and "مریم" in history


async def test_route_and_duplicate_commands(h: Harness) -> None:
    await team(h)
    original = await file(h, text="برق کوچه قطع است")
    again = await file(h, text="برق کوچه ما قطع است")
    usage = await h.send(MAYOR, "/route")
    assert "/route" in texts(usage)
    await h.send(MAYOR, f"/route {again.code} ehsan کار شهری است")
    assert (await reload(h, again)).house_id != again.house_id
    not_found = await h.send(MAYOR, f"/duplicate {again.code} ACDEFH")
    assert "ACDEFH" in texts(not_found) and (await reload(h, again)).status is Status.NEW
    self_dup = await h.send(MAYOR, f"/duplicate {again.code} {again.code}")
    assert "خودش" in texts(self_dup)
    await h.send(MAYOR, f"/duplicate {again.code} {original.code}")
    fresh = await reload(h, again)
    assert fresh.close_reason is CloseReason.DUPLICATE and fresh.duplicate_of == original.id
    await h.settle()
    assert original.code in h.last(RESIDENT)["text"]
    await h.send(MAYOR, f"/note {original.code} با شهرداری هماهنگ شد")
    assert "با شهرداری هماهنگ شد" in texts(await h.send(STAFF, f"/show {original.code}"))
    refused = await h.send(MAYOR, f"/take {original.code}")
    assert "کارکنان" in texts(refused)          # mayors triage, staff take


async def test_mayor_of_other_neighbourhood_sees_nothing(h: Harness) -> None:
    await team(h)
    await add_role(h, 9200, "mayor", None, "neighbourhood", "ISL02")
    ticket = await file(h)
    assert ticket.code not in texts(await h.send(9200, "/inbox"))
    real = texts(await h.send(9200, f"/duplicate {ticket.code} ACDEFH"))
    assert "پیدا نشد" in real and ticket.code in real
    assert "پیدا نشد" in texts(await h.send(9200, f"/route {ticket.code} relief x"))
    assert (await reload(h, ticket)).status is Status.NEW
