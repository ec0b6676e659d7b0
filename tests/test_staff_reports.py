"""Search (code, text, phone), templates, stats and the CSV export as staff see them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from tests.harness import Harness
from tests.staff_helpers import MAYOR, OTHER_HOUSE, STAFF, file, team, texts


async def test_search_by_code_text_and_phone(h: Harness) -> None:
    await team(h)
    leak = await file(h, text="لوله آب آشپزخانه ترکیده", phone="09121234567")
    other = await file(h, text="نیاز به ويلچر براي مادرم")     # Arabic yeh in the text
    assert leak.code in texts(await h.send(STAFF, f"/search {leak.code.lower()}"))
    found = texts(await h.send(STAFF, "/search ویلچر"))          # Persian yeh in the query
    assert other.code in found and leak.code not in found
    assert leak.code in texts(await h.send(STAFF, "/search ۰۹۱۲۱۲۳۴۵۶۷"))
    assert leak.code in texts(await h.send(STAFF, "/search +989121234567"))
    assert "پیدا نشد" in texts(await h.send(STAFF, "/search یخچال"))
    assert "/search" in texts(await h.send(STAFF, "/search"))
    assert other.code in texts(await h.send(MAYOR, "/search ویلچر"))


async def test_templates_list_and_insert_into_reply(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    listing = texts(await h.send(STAFF, "/templates"))
    assert "#۱" in listing and "کارت ملی" in listing
    await h.send(STAFF, f"/reply {ticket.code} #2 فردا ساعت ۹")
    await h.settle()
    relayed = h.last(8001)["text"]
    assert "کارت ملی" in relayed and "فردا ساعت ۹" in relayed
    assert "وجود ندارد" in texts(await h.send(STAFF, f"/reply {ticket.code} #99"))


async def test_stats_per_house_and_neighbourhood(h: Harness) -> None:
    await team(h)
    answered = await file(h)
    await file(h)
    h.clock.advance(timedelta(hours=2))
    await h.send(STAFF, f"/reply {answered.code} انجام می‌شود")
    h.clock.advance(timedelta(hours=80))
    stats = texts(await h.send(STAFF, "/stats"))
    assert "خانه بهزیستی · قائمیه" in stats
    assert "باز ۲" in stats and "گذشته از مهلت ۱" in stats
    assert "۲ ساعت" in stats and "۵۰٪" in stats
    assert "قائمیه" not in texts(await h.send(OTHER_HOUSE, "/stats"))


async def test_export_csv_with_bom_and_dates(h: Harness) -> None:
    await team(h)
    first = await file(h, text="متن اول", phone="09120000000")
    h.clock.advance(timedelta(days=40))
    second = await file(h, text="متن دوم")
    sent = (await h.send(STAFF, "/export"))[-1]
    data, name = h.emu.uploaded(sent["document"]["file_id"])
    assert name.endswith(".csv") and data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "کد"
    assert [r[0] for r in rows[1:]] == [second.code]          # default: last 30 days
    start = (h.clock.now() - timedelta(days=45)).strftime("%Y-%m-%d")
    end = h.clock.now().strftime("%Y-%m-%d")
    sent = (await h.send(STAFF, f"/export {start} {end}"))[-1]
    rows = list(csv.reader(io.StringIO(h.emu.uploaded(sent["document"]["file_id"])[0]
                                       .decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [first.code, second.code]
    assert rows[1][-2] == "09120000000" and rows[1][-1] == "متن اول"
    mayor = (await h.send(MAYOR, f"/export {start} {end}"))[-1]
    rows = list(csv.reader(io.StringIO(h.emu.uploaded(mayor["document"]["file_id"])[0]
                                       .decode("utf-8-sig"))))
    assert rows[1][-2] == ""                                  # no phones for mayors
    assert "تاریخ" in texts(await h.send(STAFF, "/export 1405-13-40"))
    other = (await h.send(OTHER_HOUSE, f"/export {start} {end}"))[-1]
    assert h.emu.uploaded(other["document"]["file_id"])[0].decode("utf-8-sig").count("\n") == 1
