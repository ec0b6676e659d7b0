"""The working calendar end to end, through the emulator with a controlled clock (issue 12):
Friday filings in both clock modes, a holiday on the way in office mode, urgent requests
(the resident's form, the mayor's command, /queue order), what people are told, and the SLA
sweep on the ticket's own clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.domain.tickets import Kind
from bot.services.tickets import Draft, file_ticket
from bot.sla import run_digest, sweep
from storage import places
from storage.base import fetch_all
from tests.harness import Harness, buttons, start_harness, stop_harness
from tests.resident_steps import (
    CODE_RE,
    TEXT,
    add_role,
    current,
    file_via_bot,
    seed_ticket,
    ticket,
    to_description,
)

TEHRAN = ZoneInfo("Asia/Tehran")
RESIDENT, STAFF, MAYOR = 9101, 9102, 9103
H = timedelta(hours=1)


def tehran(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TEHRAN).astimezone(UTC)


_BACKEND: list[str] = []      # the database URL of the running test (conftest's database_url)


@pytest.fixture(autouse=True)
def _backend(database_url: str) -> Iterator[None]:
    _BACKEND.append(database_url)
    yield
    _BACKEND.pop()


async def harness(tmp_path: Path, start: datetime, **settings: Any) -> Harness:
    return await start_harness(tmp_path, clock=FakeClock(start), database_url=_BACKEND[-1],
                               **settings)


@pytest.fixture
async def stop() -> AsyncIterator[list[Harness]]:
    started: list[Harness] = []
    yield started
    for h in started:
        await stop_harness(h)


async def people(h: Harness) -> None:
    h.user(RESIDENT, "زهرا")
    await add_role(h, STAFF, "staff", "welfare")       # housing -> welfare in ISL01
    await add_role(h, MAYOR, "mayor")


async def onboarded(h: Harness) -> None:
    h.user(RESIDENT, "زهرا")
    replies = await h.send(RESIDENT, "/start n_ISL01")
    await h.press(RESIDENT, replies[-1], "موافقم")


async def tick(h: Harness, advance: timedelta = timedelta()) -> None:
    h.clock.advance(advance)
    await sweep(h.deps)
    await h.settle()


def count(h: Harness, chat: int, needle: str) -> int:
    return sum(needle in m["text"] for m in h.messages(chat))


def receipt(h: Harness) -> str:
    return next(m["text"] for m in reversed(h.messages(RESIDENT)) if CODE_RE.search(m["text"]))


# --------------------------------------------------------------------------- Friday filings

async def test_friday_filing_in_calendar_mode_is_the_72_hour_promise(
        tmp_path: Path, stop: list[Harness]) -> None:
    h = await harness(tmp_path, tehran(2026, 11, 27, 11))          # Friday 6 Azar, 11:00
    stop.append(h)
    await people(h)
    await onboarded(h)
    code = await file_via_bot(h, RESIDENT)
    filed = await ticket(h, code)
    assert filed.sla_clock == "calendar" and filed.due_at == tehran(2026, 11, 30, 11)
    # A concrete moment with its weekday: «دوشنبه ۹ آذر ۱۴۰۵، ساعت ۱۱:۰۰».
    assert "دوشنبه ۹ آذر ۱۴۰۵، ساعت ۱۱:۰۰" in receipt(h)
    await tick(h, 48 * H)                                          # Sunday 11:00: T-24h
    assert count(h, STAFF, "⏰") == 1


async def test_friday_filing_in_office_mode_counts_from_saturday_morning(
        tmp_path: Path, stop: list[Harness]) -> None:
    h = await harness(tmp_path, tehran(2026, 11, 27, 11), response_clock="office")
    stop.append(h)
    await people(h)
    await onboarded(h)
    code = await file_via_bot(h, RESIDENT)
    filed = await ticket(h, code)
    # Saturday, Sunday and Monday, 8 office hours each: Monday at closing time.
    assert filed.sla_clock == "office" and filed.window_hours == 24
    assert filed.due_at == tehran(2026, 11, 30, 16)
    assert "دوشنبه ۹ آذر ۱۴۰۵، ساعت ۱۶:۰۰" in receipt(h)
    assert "تعطیل" not in receipt(h)                           # no holiday on the way
    # The staff card counts working days.
    replies = await h.send(STAFF, "/queue")
    assert "۳ روز کاری" in replies[-1]["text"], replies[-1]["text"]
    # Reminders fitted to the window and counted in office time: 8 office hours before
    # (Monday 08:00), 6 office hours before (Monday 10:00); nothing over the weekend.
    await tick(h, tehran(2026, 11, 30, 7, 59) - h.clock.now())
    assert count(h, STAFF, "⏰") == 0
    await tick(h, timedelta(minutes=1))
    assert count(h, STAFF, "⏰") == 1
    await tick(h, 2 * H)
    assert count(h, STAFF, "⏰") == 2
    await tick(h, 6 * H)                                           # Monday 16:00: breach
    assert count(h, MAYOR, "🚨") == 1


async def test_office_mode_holiday_on_the_way_is_named(tmp_path: Path,
                                                       stop: list[Harness]) -> None:
    # Tuesday 2 Tir 1405, 15:00; Tasua and Ashura (3 and 4 Tir) are closed.
    h = await harness(tmp_path, tehran(2026, 6, 23, 15), response_clock="office")
    stop.append(h)
    await people(h)
    await onboarded(h)
    code = await file_via_bot(h, RESIDENT)
    filed = await ticket(h, code)
    assert filed.due_at == tehran(2026, 6, 29, 15)                 # Monday 8 Tir, 15:00
    text = receipt(h)
    assert "دوشنبه ۸ تیر ۱۴۰۵، ساعت ۱۵:۰۰" in text
    assert "تاسوعا" in text and "عاشورا" in text, text
    status = (await h.send(RESIDENT, f"/status {code}"))[-1]["text"]
    assert "تاسوعا" in status and "دوشنبه ۸ تیر ۱۴۰۵" in status


# --------------------------------------------------------------------------- urgent requests

async def test_resident_marks_a_request_urgent_in_the_form(tmp_path: Path,
                                                           stop: list[Harness]) -> None:
    h = await harness(tmp_path, tehran(2026, 11, 25, 10), response_clock="office")
    stop.append(h)
    await people(h)
    await onboarded(h)
    plain = await file_via_bot(h, RESIDENT, text="کلاس خیاطی برای زنان محله می‌خواهیم",
                               category="آموزش فنی و حرفه‌ای")
    replies = await h.send(RESIDENT, "/new")
    replies = await to_description(h, RESIDENT, replies[-1])
    ack = (await h.send(RESIDENT, TEXT))[-1]
    await h.press(RESIDENT, ack, "تمام")
    summary = (await h.send(RESIDENT, "➡️ ادامه"))[-1]
    asked = await h.press(RESIDENT, summary, "فوری است")
    assert "چرا فوری است" in asked[-1]["text"] and "۲۴ ساعت" in asked[-1]["text"]
    assert "بنویسید" in (await h.send(RESIDENT, "آ"))[-1]["text"]    # too short: asked again
    summary = (await h.send(RESIDENT, "سقف در حال ریزش است"))[-1]
    assert "🚨 فوری: سقف در حال ریزش است" in summary["text"]
    done = (await h.press(RESIDENT, current(h, RESIDENT, summary), "فرستادن"))[-1]
    match = CODE_RE.search(done["text"])
    assert match
    urgent = await ticket(h, match.group(1))
    # Urgent: 24 hours of calendar time, also in office mode.
    assert urgent.urgent and urgent.urgent_reason == "سقف در حال ریزش است"
    assert urgent.sla_clock == "calendar" and urgent.due_at == tehran(2026, 11, 26, 10)
    # /queue: the urgent request first (though filed later), flagged.
    lines = (await h.send(STAFF, "/queue"))[-1]["text"]
    assert lines.index(urgent.code) < lines.index(plain)
    assert "🚨 " + urgent.code in lines
    card = (await h.send(STAFF, f"/show {urgent.code}"))[-1]["text"]
    assert "🚨 فوری: سقف در حال ریزش است" in card


async def test_mayor_sets_and_clears_urgency(tmp_path: Path, stop: list[Harness]) -> None:
    h = await harness(tmp_path, tehran(2026, 11, 25, 10))
    stop.append(h)
    await people(h)
    await onboarded(h)
    code = await file_via_bot(h, RESIDENT)
    await h.settle()        # the mayor's announcement first, so [-1] below is the reply
    assert (await ticket(h, code)).due_at == tehran(2026, 11, 28, 10)
    usage = (await h.send(MAYOR, f"/urgent {code}"))[-1]["text"]
    assert "/urgent" in usage
    done = (await h.send(MAYOR, f"/urgent {code} کودک بیمار در خانه"))[-1]["text"]
    assert "🚨" in done and code in done
    now_urgent = await ticket(h, code)
    assert now_urgent.urgent and now_urgent.due_at == tehran(2026, 11, 26, 10)
    await h.settle()
    told = h.messages(RESIDENT)[-1]["text"]
    assert code in told and "فوری" in told and "پنجشنبه ۵ آذر ۱۴۰۵، ساعت ۱۰:۰۰" in told
    # Reminders fit the 24-hour window: 8 h before (not 24 h, which would be right away).
    await tick(h, 15 * H)
    assert count(h, STAFF, "⏰") == 0
    await tick(h, H)
    assert count(h, STAFF, "⏰") == 1
    await h.send(MAYOR, f"/noturgent {code}")
    cleared = await ticket(h, code)
    assert not cleared.urgent and cleared.due_at == tehran(2026, 11, 28, 10)
    await h.settle()
    assert "دیگر فوری نیست" in h.messages(RESIDENT)[-1]["text"]
    # Staff cannot do it; the mayor's /help lists it.
    assert "/urgent" in (await h.send(MAYOR, "/help"))[-1]["text"]


async def test_urgent_category_window(tmp_path: Path, stop: list[Harness]) -> None:
    """Social harms carry their own window: 24 hours of calendar time, in office mode too."""
    h = await harness(tmp_path, tehran(2026, 11, 27, 11), response_clock="office")
    stop.append(h)
    await people(h)
    await onboarded(h)
    code = await file_via_bot(h, RESIDENT, category="آسیب‌های اجتماعی")
    filed = await ticket(h, code)
    assert filed.sla_clock == "calendar" and filed.window_hours == 24
    assert filed.due_at == tehran(2026, 11, 28, 11)




# --------------------------------------------------------------------------- quiet hours

QUIET = "21:00-07:30"


async def seed(h: Harness, category: str = "housing", **draft: Any) -> str:
    """A request filed through the service now (the resident's form is tested above)."""
    made = await seed_ticket(h, RESIDENT, f"k{h.clock.now().timestamp()}", category)
    if draft:     # the same request filed again, urgent (a second resident's request)
        async with h.deps.db.read() as conn:
            c = await places.category_by_code(conn, category)
        assert c is not None
        made, _ = await file_ticket(h.deps, Draft(
            resident_id=RESIDENT, neighbourhood_id=made.neighbourhood_id, kind=Kind.NEED,
            category_id=c.id, text=TEXT, **draft), idem_key=f"u{h.clock.now().timestamp()}")
    await h.settle()
    return made.code


async def held_rows(h: Harness, chat: int) -> list[datetime]:
    async with h.deps.db.read() as conn:
        rows = await fetch_all(conn, "SELECT not_before FROM outbox WHERE chat_id = ? AND "
                                     "status = 'pending'", (chat,))
    return [datetime.fromisoformat(r[0]) for r in rows]


async def test_reminder_at_night_waits_until_the_end_of_quiet_hours_and_is_sent_once(
        tmp_path: Path, stop: list[Harness]) -> None:
    # Filed Wednesday 11:54: due Saturday 11:54, so "6 hours left" falls at 05:54.
    h = await harness(tmp_path, tehran(2026, 11, 25, 11, 54), quiet_hours=QUIET)
    stop.append(h)
    await people(h)
    code = await seed(h)
    await tick(h, tehran(2026, 11, 27, 11, 54) - h.clock.now())    # T-24h, in the day
    assert count(h, STAFF, "⏰") == 1
    await tick(h, tehran(2026, 11, 28, 5, 54) - h.clock.now())     # T-6h, at night
    assert count(h, STAFF, "⏰") == 1
    assert await held_rows(h, STAFF) == [tehran(2026, 11, 28, 7, 30)]
    await tick(h, tehran(2026, 11, 28, 7, 29) - h.clock.now())
    assert count(h, STAFF, "⏰") == 1
    await tick(h, timedelta(minutes=1))                            # 07:30
    assert count(h, STAFF, "⏰") == 2
    last = h.messages(STAFF)[-1]
    assert code in last["text"] and "۶ ساعت" in last["text"]
    assert "شنبه ۷ آذر ۱۴۰۵، ساعت ۱۱:۵۴" in last["text"]          # weekday, date, time
    assert any("🙋" in text for text, _data in buttons(last))     # its own buttons (Take)
    for _ in range(3):
        await tick(h, 10 * timedelta(minutes=1))
    assert count(h, STAFF, "⏰") == 2                              # sent once


async def test_non_urgent_escalation_waits_urgent_one_does_not(
        tmp_path: Path, stop: list[Harness]) -> None:
    h = await harness(tmp_path, tehran(2026, 11, 23, 3), quiet_hours=QUIET)   # Monday 03:00
    stop.append(h)
    await people(h)
    # Health goes to the Red Crescent house, which has no staff here: reminders go to the
    # mayor, so the mayor's chat also holds night reminders.
    plain = await seed(h, "health")                                # due Thursday 03:00
    h.clock.set(tehran(2026, 11, 25, 3))                           # Wednesday 03:00
    urgent = await seed(h, "health", urgent=True, urgent_reason="بیمار بدحال")   # Thu 03:00
    await tick(h, tehran(2026, 11, 25, 19, 0) - h.clock.now())     # urgent: T-8h, evening
    seen = count(h, MAYOR, "⏰")
    assert seen >= 1
    await tick(h, tehran(2026, 11, 25, 21, 0) - h.clock.now())     # T-6h: quiet, held
    assert count(h, MAYOR, "⏰") == seen
    assert tehran(2026, 11, 26, 7, 30) in await held_rows(h, MAYOR)
    await tick(h, tehran(2026, 11, 26, 3) - h.clock.now())         # Thursday 03:00: both due
    escalations = [m for m in h.messages(MAYOR) if "پاسخ داده نشد" in m["text"]]
    # The urgent one at once (past the held reminder in the same chat); the other at 07:30.
    assert [urgent in m["text"] for m in escalations] == [True]
    assert "فوری" in escalations[0]["text"]
    # The resident is told at once too, without a sound.
    late = [m for m in h.messages(RESIDENT) if "😔" in m["text"]]
    assert len(late) == 2 and all(m.get("silent") for m in late)
    await tick(h, tehran(2026, 11, 26, 7, 30) - h.clock.now())
    escalations = [m for m in h.messages(MAYOR) if "پاسخ داده نشد" in m["text"]]
    assert len(escalations) == 2 and plain in escalations[1]["text"]
    assert not any(m.get("silent") for m in h.messages(MAYOR))


async def test_residents_are_answered_at_night_without_a_sound(tmp_path: Path,
                                                               stop: list[Harness]) -> None:
    h = await harness(tmp_path, tehran(2026, 11, 25, 14), quiet_hours=QUIET)
    stop.append(h)
    await people(h)
    code = await seed(h)
    await h.send(STAFF, f"/reply {code} فردا صبح همکار ما تماس می‌گیرد")
    await h.settle()
    day = h.messages(RESIDENT)[-1]
    assert code in day["text"] and not day.get("silent")
    h.clock.set(tehran(2026, 11, 25, 23, 40))
    await h.send(STAFF, f"/reply {code} پیگیری شد")
    await h.settle()
    night = h.messages(RESIDENT)[-1]
    assert "پیگیری شد" in night["text"] and night.get("silent") is True


async def test_digest_skipped_on_holidays_and_fridays(tmp_path: Path,
                                                      stop: list[Harness]) -> None:
    h = await harness(tmp_path, tehran(2026, 6, 22, 10))           # Monday 1 Tir 1405
    stop.append(h)
    await people(h)
    await seed(h)
    for day, sent in ((23, True), (24, False), (25, False), (26, False), (27, True)):
        h.clock.set(tehran(2026, 6, day, 8))                       # Tasua, Ashura, Friday
        assert (await run_digest(h.deps) > 0) is sent, day
    await h.settle()
    assert count(h, STAFF, "📊") == 2


async def test_digest_in_quiet_hours_waits_for_their_end(tmp_path: Path,
                                                         stop: list[Harness]) -> None:
    h = await harness(tmp_path, tehran(2026, 11, 25, 10), quiet_hours=QUIET)
    stop.append(h)
    await people(h)
    await seed(h)
    h.clock.set(tehran(2026, 11, 28, 6))                           # Saturday 06:00
    assert await run_digest(h.deps) > 0
    await h.settle()
    assert count(h, STAFF, "📊") == 0
    await tick(h, 90 * timedelta(minutes=1))                       # 07:30
    assert count(h, STAFF, "📊") == 1


async def test_stats_answered_in_time_within_the_tickets_own_window(
        tmp_path: Path, stop: list[Harness]) -> None:
    """66 wall hours but 15 office hours after a Wednesday 15:00 filing: in time."""
    h = await harness(tmp_path, tehran(2026, 11, 25, 15), response_clock="office")
    stop.append(h)
    await people(h)
    code = await seed(h)
    h.clock.set(tehran(2026, 11, 29, 9))                           # Sunday 09:00
    await h.send(STAFF, f"/reply {code} همکار ما فردا می‌آید")
    stats = (await h.send(STAFF, "/stats"))[0]["text"]   # then the chart photo
    assert "۱۰۰٪" in stats and "۱۵ ساعت" in stats, stats
    card = (await h.send(STAFF, f"/show {code}"))[-1]["text"]
    assert "✅" in card


async def test_ask_pauses_office_time_and_adds_it_back(tmp_path: Path,
                                                       stop: list[Harness]) -> None:
    h = await harness(tmp_path, tehran(2026, 11, 25, 15), response_clock="office")
    stop.append(h)
    await people(h)
    code = await seed(h)                                           # due Monday 10:00
    h.clock.set(tehran(2026, 11, 25, 15, 30))
    await h.send(STAFF, f"/ask {code} نشانی دقیق خانه کجاست؟")
    await h.settle()
    question = h.messages(RESIDENT)[-1]
    assert code in question["text"]
    h.clock.set(tehran(2026, 11, 28, 9))                           # Saturday 09:00
    await h.send(RESIDENT, "کوچه سوم، پلاک ۱۲", reply_to=question["message_id"])
    # 23.5 office hours were left at the pause: from Saturday 09:00 that is Tuesday 08:30.
    assert (await ticket(h, code)).due_at == tehran(2026, 12, 1, 8, 30)
