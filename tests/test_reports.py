"""Reports (issue 13): the period parser, every /stats figure on a fixture with known
outcomes, the weekly series and chart, the CSV/XLSX export and its rules."""

from __future__ import annotations

import asyncio
import csv
import io
import struct
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.domain.periods import PeriodError, PeriodProblem, parse_period
from bot.i18n import translator
from bot.services import reports
from bot.services.errors import Refused
from bot.services.roles import Scope
from bot.ui import charts
from bot.ui.errors import refused_text
from bot.ui.export_files import CsvWriter, XlsxWriter
from bot.ui.reports import stats_text
from storage import places
from storage.base import iso
from storage.staff_queries import Area, neighbourhood_ids
from tests.harness import Harness
from tests.staff_helpers import MAYOR, STAFF, SUPERVISOR, file, team, texts

TZ = ZoneInfo("Asia/Tehran")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)          # Sunday 9 Azar 1405, 11:30 Tehran
FA = translator("fa")


# --------------------------------------------------------------------------- periods

def test_period_default_week_month() -> None:
    p = parse_period("", NOW, TZ)
    assert (p.first_day, p.last_day, p.days) == (date(2026, 11, 1), date(2026, 11, 30), 30)
    assert p.start == datetime(2026, 11, 1, tzinfo=TZ)
    assert p.end == datetime(2026, 12, 1, tzinfo=TZ)
    assert parse_period("هفته", NOW, TZ).days == 7
    assert parse_period("week", NOW, TZ).first_day == date(2026, 11, 24)
    assert parse_period("ماه", NOW, TZ).days == 30


def test_period_jalali_months() -> None:
    azar = parse_period("آذر", NOW, TZ)                  # Azar 1405 has begun
    assert (azar.first_day, azar.last_day) == (date(2026, 11, 22), date(2026, 12, 21))
    dey = parse_period("دی", NOW, TZ)                    # Dey 1405 has not: Dey 1404
    assert dey.first_day == date(2025, 12, 22)
    assert parse_period("۱۴۰۵/۰۹", NOW, TZ) == azar
    assert parse_period("1405-09", NOW, TZ) == azar
    assert parse_period("آذر ۱۴۰۵", NOW, TZ) == azar
    assert parse_period("azar", NOW, TZ) == azar
    assert parse_period("اسفند ۱۴۰۳", NOW, TZ).last_day == date(2025, 3, 20)   # leap year
    nov = parse_period("2026-11", NOW, TZ)
    assert (nov.first_day, nov.last_day) == (date(2026, 11, 1), date(2026, 11, 30))


def test_period_days_and_ranges() -> None:
    one = parse_period("۱۴۰۵/۰۹/۰۵", NOW, TZ)
    assert (one.first_day, one.last_day) == (date(2026, 11, 26), date(2026, 11, 26))
    jalali = parse_period("1405/09/01 1405/09/30", NOW, TZ)
    assert (jalali.first_day, jalali.last_day) == (date(2026, 11, 22), date(2026, 12, 21))
    assert parse_period("۱۴۰۵/۰۹/۰۱ تا ۱۴۰۵/۰۹/۳۰", NOW, TZ) == jalali
    greg = parse_period("2026-11-22 2026-12-21", NOW, TZ)
    assert greg == jalali
    assert parse_period("1405/08 1405/09", NOW, TZ).first_day == date(2026, 10, 23)


@pytest.mark.parametrize(("text", "problem"), [
    ("فردا", PeriodProblem.UNREADABLE), ("12", PeriodProblem.UNREADABLE),
    ("1405/13/01", PeriodProblem.BAD_DATE), ("1405-13-40", PeriodProblem.BAD_DATE),
    ("2026-02-30", PeriodProblem.BAD_DATE), ("آذر 99999", PeriodProblem.BAD_DATE),
    ("1405/09/30 1405/09/01", PeriodProblem.REVERSED), ("a b c", PeriodProblem.UNREADABLE),
])
def test_period_bad_input(text: str, problem: PeriodProblem) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text, NOW, TZ)
    assert caught.value.problem is problem


async def test_bad_period_is_a_clear_persian_message(h: Harness) -> None:
    await team(h)
    said = texts(await h.send(STAFF, "/stats فردا"))
    assert "«فردا»" in said and "/stats آذر" in said and "/stats ۱۴۰۵/۰۹" in said
    assert "۳۰ روز گذشته" in said
    said = texts(await h.send(STAFF, "/export 1405/09/30 1405/09/01"))
    assert "پیش از تاریخ آغاز" in said and "/export ۱۴۰۵/۰۹/۰۱" in said
    with pytest.raises(Refused) as caught:
        reports.period_of(h.deps, "1405/13/01", "/stats")
    assert "چنین تاریخی وجود ندارد" in refused_text(FA, caught.value)


# --------------------------------------------------------------------------- the fixture

async def _ids(h: Harness) -> dict[str, int]:
    async with h.deps.db.read() as conn:
        welfare = await places.house_by_code(conn, "welfare")
        relief = await places.house_by_code(conn, "relief")
        n1 = await places.neighbourhood_by_code(conn, "ISL01")
        n2 = await places.neighbourhood_by_code(conn, "ISL02")
        cat = await places.category_by_code(conn, "housing")
    assert welfare and relief and n1 and n2 and cat
    return {"welfare": welfare.id, "relief": relief.id, "n1": n1.id, "n2": n2.id,
            "cat": cat.id}


async def _seed(h: Harness) -> dict[str, int]:
    """Known outcomes (hours after filing; window = 72 h; now = the harness clock)."""
    ids = await _ids(h)
    now = h.clock.now()
    rows = [  # code, house, n, days ago, status, first answer h, reason, rating, reopened, paused
        ("A", "welfare", "n1", 10, "closed", 2, "resolved", 5, 0, False),
        ("B", "welfare", "n1", 10, "closed", 4, "resolved", 3, 1, False),
        ("C", "welfare", "n1", 9, "closed", 80, "not_possible", None, 0, False),
        ("D", "welfare", "n1", 8, "new", None, None, None, 0, False),         # overdue
        ("E", "welfare", "n1", 1, "in_progress", None, None, None, 0, False),  # in window
        ("F", "welfare", "n1", 5, "closed", None, "withdrawn", None, 0, False),
        ("G", "welfare", "n1", 5, "awaiting_resident", None, None, None, 0, True),
        ("H", "welfare", "n1", 40, "new", None, None, None, 0, False),        # before period
        ("I", "welfare", "n2", 3, "answered", 6, None, 4, 0, False),
        ("J", "welfare", "n2", 3, "closed", 1, "duplicate", None, 0, False),
        ("K", "relief", "n1", 2, "new", None, None, None, 0, False),          # other house
    ]
    async with h.deps.db.tx() as conn:
        await conn.execute("INSERT INTO people(id, first_name, created_at, updated_at) "
                           "VALUES (9001, '', ?, ?) ON CONFLICT DO NOTHING",
                           (now.isoformat(),) * 2)
        for code, house, n, days, status, first, reason, rating, reopen, paused in rows:
            created = now - timedelta(days=days)
            await conn.execute(
                """INSERT INTO tickets(code, resident_id, neighbourhood_id, kind, category_id,
                house_id, text, phone, status, close_reason, created_at, updated_at,
                window_started_at, due_at, first_response_at, closed_at, rating,
                reopen_count, paused_at)
                VALUES (?, 9001, ?, 'need', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (f"RPT{code}", ids[n], ids["cat"], ids[house], f"متن {code}", "09120000000",
                 status, reason, iso(created), iso(created), iso(created),
                 iso(created + timedelta(hours=72)),
                 iso(created + timedelta(hours=first)) if first is not None else None,
                 iso(created + timedelta(days=1)) if status == "closed" else None,
                 rating, reopen, iso(created + timedelta(hours=1)) if paused else None))
    return ids


async def _supervisor_scope(h: Harness, ids: dict[str, int]) -> Scope:
    async with h.deps.db.read() as conn:
        n1 = await places.neighbourhood_by_code(conn, "ISL01")
        assert n1
        city = await neighbourhood_ids(conn, "city", n1.city_id)
    return Scope(SUPERVISOR, "supervisor", [Area(ids["welfare"], city)], [], [ids["welfare"]])


async def test_every_stats_figure(h: Harness) -> None:
    ids = await _seed(h)
    report = await reports.stats(h.deps, await _supervisor_scope(h, ids))
    assert [hs.house.code for hs in report.houses] == ["welfare"]
    welfare = report.houses[0]
    by_area = {a.neighbourhood.code: a.figures for a in welfare.areas}
    assert set(by_area) == {"ISL01", "ISL02"}
    one = by_area["ISL01"]
    assert (one.received, one.answered, one.open, one.overdue) == (7, 3, 3, 1)
    assert one.closed == {"resolved": 2, "not_possible": 1, "withdrawn": 1}
    assert one.closed_total == 4
    assert (one.judged, one.in_time, one.in_time_share) == (4, 2, 0.5)
    assert one.median_first_response_s == 4 * 3600
    assert (one.rating_average, one.rating_count) == (4.0, 2)
    assert one.reopened == 1 and one.reopened_share == pytest.approx(1 / 7)
    two = by_area["ISL02"]
    assert (two.received, two.answered, two.open, two.overdue) == (2, 2, 1, 0)
    assert two.closed == {"duplicate": 1}
    assert (two.judged, two.in_time) == (2, 2)
    assert two.median_first_response_s == 3.5 * 3600                   # mean of 1 h and 6 h
    assert (two.rating_average, two.rating_count, two.reopened) == (4.0, 1, 0)
    house = welfare.figures
    assert (house.received, house.answered, house.open, house.overdue) == (9, 5, 4, 1)
    assert house.closed == {"resolved": 2, "not_possible": 1, "withdrawn": 1, "duplicate": 1}
    assert (house.judged, house.in_time) == (6, 4)
    assert house.median_first_response_s == 4 * 3600                   # 1, 2, 4, 6, 80 h
    assert (house.rating_sum, house.rating_count) == (12, 3)
    assert house.reopened_share == pytest.approx(1 / 9)
    assert report.total.received == 9 and report.total.median_first_response_s == 4 * 3600
    text = stats_text(FA, report)
    assert "خانه بهزیستی · همه محله‌ها" in text and "خانه بهزیستی · قائمیه" in text
    assert "دریافت ۷ · پاسخ ۳ · بسته ۴ · باز ۳ · گذشته از مهلت ۱" in text
    assert (f"بسته‌شده‌ها: {FA._('resolved')} ۲ · {FA._('not possible')} ۱ · "
            f"{FA._('withdrawn')} ۱") in text
    assert "در مهلت ۵۰٪ · میانه اولین پاسخ ۴ ساعت · رضایت ۴٫۰ از ۵ (۲ نظر) · بازگشایی ۱۴٪" \
        in text
    assert "میانه اولین پاسخ ۳ ساعت و ۳۰ دقیقه" in text
    assert "در مهلت ۶۷٪" in text


async def test_stats_period_and_empty(h: Harness) -> None:
    ids = await _seed(h)
    scope = await _supervisor_scope(h, ids)
    week = await reports.stats(h.deps, scope, "هفته")                 # I, J, E, F, G
    assert week.total.received == 5
    old = await reports.stats(h.deps, scope, "1300/01/01 1300/01/02")
    assert old.empty and "درخواستی ثبت نشده" in stats_text(FA, old)


async def test_weekly_series_by_jalali_week(h: Harness) -> None:
    ids = await _seed(h)
    report = await reports.stats(h.deps, await _supervisor_scope(h, ids))
    series = report.weekly
    assert series is not None and len(series.weeks) == 12
    assert all(w.weekday() == 5 for w in series.weeks)                  # Saturdays
    today = h.clock.now().astimezone(TZ).date()
    assert series.weeks[-1] <= today < series.weeks[-1] + timedelta(days=7)
    assert sum(series.counts["welfare"]) == 10                          # H is 40 days old
    assert "relief" not in series.counts
    expected_now = sum(1 for d in (10, 10, 9, 8, 1, 5, 5, 40, 3, 3)
                       if (h.clock.now() - timedelta(days=d)).astimezone(TZ).date()
                       >= series.weeks[-1])
    assert series.counts["welfare"][-1] == expected_now


async def test_chart_is_a_phone_sized_png(h: Harness) -> None:
    ids = await _seed(h)
    report = await reports.stats(h.deps, await _supervisor_scope(h, ids))
    assert report.weekly is not None
    spec = charts.weekly_spec(FA, report.weekly)
    assert spec["rtl"] and all(not any(c.isascii() and c.isdigit() for c in w)
                               for w in spec["weeks"])              # Persian digits
    assert spec["weeks"][0].split()[-1] in {"شهریور", "مهر", "آبان", "آذر", "دی"}
    png = await charts.render(spec)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (charts.WIDTH_PX, charts.HEIGHT_PX)
    assert width <= 1280 and height > width                             # portrait, phone
    assert 20_000 < len(png) < 1_000_000


def test_labels_are_shaped_when_matplotlib_cannot() -> None:
    shaped = charts._shape("خانه بهزیستی", True)
    assert shaped == "ﯽﺘﺴﯾﺰﻬﺑ ﻪﻧﺎﺧ"                # joined forms, in visual (reversed) order
    assert charts._shape("Welfare", False) == "Welfare"


async def test_stats_sends_the_chart_as_a_photo(h: Harness) -> None:
    await team(h)
    await file(h)
    sent = await h.send(STAFF, "/stats")
    assert "خانه بهزیستی · قائمیه" in sent[0]["text"]
    photo = sent[-1]["photo"][-1]
    data, _ = h.emu.uploaded(photo["file_id"])
    assert data.startswith(b"\x89PNG") and "هفته" in sent[-1]["caption"]


# --------------------------------------------------------------------------- export

def _csv(h: Harness, message: dict) -> tuple[bytes, list[list[str]], str]:  # type: ignore[type-arg]
    data, name = h.emu.uploaded(message["document"]["file_id"])
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig")))), name


async def test_export_csv_columns_dates_and_plain_words(h: Harness) -> None:
    await team(h)
    ticket = await file(h, text="متن اول 🙂", phone="09121111111")
    h.clock.advance(timedelta(hours=3))
    await h.send(STAFF, f"/reply {ticket.code} بررسی می‌شود")
    sent = (await h.send(STAFF, "/export آذر"))[-1]
    data, rows, name = _csv(h, sent)
    assert data.startswith("\ufeff".encode())
    assert name == "requests-1405-09-01_1405-09-30.csv"
    assert "۱ آذر ۱۴۰۵" in sent["caption"] and "۳۰ آذر ۱۴۰۵" in sent["caption"]
    head, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert head[0] == "کد" and head[-2:] == ["تلفن", "متن"]
    assert {"ثبت", "ثبت (شمسی)", "اولین پاسخ", "اولین پاسخ (شمسی)", "مهلت", "بسته شدن (شمسی)",
            "پاسخ در مهلت", "نظر امتیاز", "عرض جغرافیایی", "فوریت"} <= set(head)
    assert row["کد"] == ticket.code and row["نوع"] == "نیاز"
    assert row["وضعیت"] == "پاسخ داده شده، باز"                     # a plain word
    assert datetime.fromisoformat(row["ثبت"]).utcoffset() == timedelta(hours=3, minutes=30)
    assert datetime.fromisoformat(row["ثبت"]) == ticket.created_at
    assert "آذر ۱۴۰۵" in row["ثبت (شمسی)"]
    assert datetime.fromisoformat(row["اولین پاسخ"]) == ticket.created_at + timedelta(hours=3)
    assert row["پاسخ در مهلت"] == "بله" and row["تلفن"] == "09121111111"
    assert row["متن"] == "متن اول 🙂"                                  # the resident's words
    emoji = [c for cell in rows[1][:-1] for c in cell if ord(c) > 0x2500 and
             not 0x0600 <= ord(c) <= 0x06FF and c not in "\u200c"]
    assert emoji == []


async def test_export_phones_only_for_staff_in_scope(h: Harness) -> None:
    await team(h)
    await file(h, phone="09122222222")
    staff = _csv(h, (await h.send(STAFF, "/export"))[-1])[1]
    mayor = _csv(h, (await h.send(MAYOR, "/export"))[-1])[1]
    supervisor = _csv(h, (await h.send(SUPERVISOR, "/export"))[-1])[1]
    assert staff[1][-2] == "09122222222"
    assert mayor[1][-2] == "" and supervisor[1][-2] == ""
    assert len(mayor) == len(supervisor) == 2


async def test_export_xlsx(h: Harness, tmp_path: Path) -> None:
    await team(h)
    ticket = await file(h, phone="09123333333")
    sent = (await h.send(STAFF, "/export ماه xlsx"))[-1]
    data, name = h.emu.uploaded(sent["document"]["file_id"])
    assert name.endswith(".xlsx")
    path = tmp_path / name
    path.write_bytes(data)
    sheet = load_workbook(path).active
    assert sheet.sheet_view.rightToLeft and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["Y"].width == 60                     # the text
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "کد" and values[1][0] == ticket.code and values[1][-2] == "09123333333"
    assert values[1][10] and "آذر" in values[1][10]


async def test_export_refused_in_a_group(h: Harness) -> None:
    await team(h)
    group = -100777
    h.emu.add_group(group, "تیم بهزیستی")
    await h.send(STAFF, "/bind", chat_id=group)
    await file(h, phone="09124444444")
    said = await h.send(STAFF, "/export", chat_id=group)
    assert "خصوصی" in texts(said) and not any("document" in m for m in said)


async def test_second_export_while_one_runs_is_refused(h: Harness) -> None:
    await team(h)
    await file(h)
    scope = await _supervisor_scope(h, await _ids(h))
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(done: int, total: int) -> None:
        started.set()
        await release.wait()

    first = asyncio.create_task(reports.export(h.deps, scope, "", locale="fa", private=True,
                                               progress=slow))
    await asyncio.wait_for(started.wait(), 30)
    with pytest.raises(Refused) as caught:
        await reports.export(h.deps, scope, "", locale="fa", private=True)
    assert "هنوز در حال آماده شدن" in refused_text(FA, caught.value)
    release.set()
    done = await first
    assert done.rows == 1 and all(p.exists() for p in done.files)
    done.cleanup()
    assert not any(p.exists() for p in done.files)
    again = await reports.export(h.deps, scope, "", locale="fa", private=True)   # free again
    again.cleanup()


def test_csv_parts_each_with_bom_and_header(tmp_path: Path) -> None:
    out = CsvWriter(tmp_path, "requests-x", ["a", "b"], limit=200)
    for i in range(30):
        out.write([f"row{i}", "متن" * 5])
    files = out.close()
    assert [f.name for f in files][:2] == ["requests-x-part1.csv", "requests-x-part2.csv"]
    rows = 0
    for f in files:
        data = f.read_bytes()
        assert data.startswith("\ufeffa,b\r\n".encode()) and len(data) <= 200
        rows += data.decode("utf-8-sig").count("\n") - 1
    assert rows == 30
    single = CsvWriter(tmp_path, "one", ["a"]).close()
    assert [f.name for f in single] == ["one.csv"]


def test_xlsx_parts_by_sheet_rows(tmp_path: Path) -> None:
    out = XlsxWriter(tmp_path, "requests-y", ["a", "b"], rtl=True, max_rows=4)
    for i in range(7):
        out.write([f"r{i}", "x\x01y"])                                    # control character
    files = out.close()
    assert len(files) == 3
    sheets = [list(load_workbook(f).active.iter_rows(values_only=True)) for f in files]
    assert [len(s) for s in sheets] == [4, 4, 2] and all(s[0] == ("a", "b") for s in sheets)
    assert sheets[0][1] == ("r0", "xy")


async def test_progress_message_is_edited_during_a_long_export(
        h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers import reports as report_handlers

    monkeypatch.setattr(reports, "EXPORT_CHUNK", 1)
    monkeypatch.setattr(report_handlers, "PROGRESS_AFTER_S", 0.0)
    monkeypatch.setattr(report_handlers, "PROGRESS_EVERY_S", 0.0)
    await team(h)
    for _ in range(3):
        await file(h)
    sent = await h.send(STAFF, "/export")
    progress, document = sent[0], sent[-1]
    assert "document" in document and "۳ درخواست" in document["caption"]
    assert progress["text"] == "✅ خروجی آماده است: ۳ درخواست."
    assert progress["edits"] >= 2                    # 0 of 3 … 3 of 3, then ready


async def test_weekly_chart_for_mayors_and_supervisors_once_a_week(h: Harness) -> None:
    from bot.weekly_chart import send_weekly_charts

    await team(h)
    await file(h)
    assert await send_weekly_charts(h.deps) == 2                     # the mayor, the supervisor
    await h.settle()
    for person in (MAYOR, SUPERVISOR):
        photo = h.last(person)
        assert photo["photo"] and "تصویر این هفته" in photo["caption"]
        assert h.emu.uploaded(photo["photo"][-1]["file_id"])[0].startswith(b"\x89PNG")
    assert not any(m.get("photo") for m in h.messages(STAFF))         # staff: /stats only
    assert await send_weekly_charts(h.deps) == 0                     # once per week
    h.clock.advance(timedelta(days=7))
    assert await send_weekly_charts(h.deps) == 2                     # the next Jalali week
