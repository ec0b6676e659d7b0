"""The working calendar (issue 12): office time on Iran's calendar, as pure functions.

Property-based tests (hypothesis) of the office clock, and a table of dates that matter:
Nowruz 1406, Tasua/Ashura 1405 as officially announced (3 and 4 Tir 1405), the issue's worked
examples and a filing on Thursday 12:30.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import ConfigError, load_settings
from bot.domain import sla
from bot.domain.sla import ClockKind, Window
from bot.domain.workcal import (
    WALL,
    CalendarError,
    HolidayBook,
    HolidayChange,
    QuietHours,
    WorkCalendar,
    WorkWeek,
    holiday_moved,
)
from bot.reference import ImportError_, jalali_date, load_calendar

TZ = ZoneInfo("Asia/Tehran")
H = timedelta(hours=1)
WEEK = WorkWeek.parse("sat-wed 08:00-16:00; thu 08:00-13:00")
CAL = load_calendar(TZ, WEEK)      # the real IR holidays and the shipped data files
EMPTY = Path("/nonexistent")


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ).astimezone(UTC)


def office_due(start: datetime, hours: float = 24, cal: WorkCalendar = CAL) -> datetime:
    return sla.initial_due(start, hours, cal)


# --------------------------------------------------------------------------- the table

@pytest.mark.parametrize(("name", "filed", "due"), [
    # The first worked example: Wed 15:00 -> 1 h Wed, 5 h Thu, 8 h Sat, 8 h Sun, 2 h Mon.
    ("Wednesday 15:00", local(2026, 11, 25, 15), local(2026, 11, 30, 10)),
    # Filed on a Friday: Sat, Sun, Mon whole days -> Monday at closing time.
    ("Friday", local(2026, 11, 27, 11), local(2026, 11, 30, 16)),
    ("Friday night", local(2026, 11, 27, 23, 59), local(2026, 11, 30, 16)),
    # Thursday 12:30: half an hour Thursday, 8 h Sat, 8 h Sun, 7.5 h Mon.
    ("Thursday 12:30", local(2026, 11, 26, 12, 30), local(2026, 11, 30, 15, 30)),
    ("Thursday after closing", local(2026, 11, 26, 13, 30), local(2026, 11, 30, 16)),
    # Nowruz 1406: Oil Day (29 Esfand 1405, Saturday) and 1-4 Farvardin 1406 are closed;
    # Wed 1 h, Thu 5 h, Thu 25 Mar 5 h, Sat 8 h, Sun 5 h.
    ("before Nowruz 1406", local(2027, 3, 17, 15), local(2027, 3, 28, 13)),
    # Tasua and Ashura 1405 (Wednesday 3 and Thursday 4 Tir, as announced): Tue 1 h,
    # Sat 8 h, Sun 8 h, Mon 7 h.
    ("before Tasua 1405", local(2026, 6, 23, 15), local(2026, 6, 29, 15)),
])
def test_office_due_table(name: str, filed: datetime, due: datetime) -> None:
    assert office_due(filed) == due, name
    assert CAL.between(filed, due) == 24 * H


def test_calendar_mode_is_the_72_hour_promise_on_a_friday() -> None:
    filed = local(2026, 11, 27, 11)
    assert sla.initial_due(filed, 72) == filed + 72 * H == sla.initial_due(filed, 72, WALL)


def test_official_holidays_in_persian() -> None:
    assert jalali_date("1406-01-01") == date(2027, 3, 21)
    assert [CAL.holiday(jalali_date(f"1406-01-0{d}")) is not None for d in (1, 2, 3, 4)] == [
        True] * 4
    tasua, ashura = CAL.holiday(jalali_date("1405-04-03")), CAL.holiday(jalali_date("1405-04-04"))
    assert tasua is not None and "تاسوعا" in tasua.name_fa and tasua.name_en == "Tasua"
    assert ashura is not None and "عاشورا" in ashura.name_fa
    assert CAL.holiday(jalali_date("1405-04-05")) is None
    moved = holiday_moved(CAL, local(2026, 6, 23, 15), local(2026, 6, 29, 15))
    assert [h.name_en for _d, h in moved] == ["Tasua", "Ashura"]


def test_holidays_extra_adds_moves_and_cancels(tmp_path: Path) -> None:
    extra = tmp_path / "holidays-extra.csv"
    extra.write_text(
        "action,date,to,name_fa,name_en,note\n"
        "add,1405-09-10,,تعطیلی آلودگی هوا,Air pollution closure,Tehran province\n"
        "move,1405-04-04,1405-04-05,,,announced a day later (example)\n"
        "cancel,1405-04-03,,,,\n", encoding="utf-8")
    cal = load_calendar(TZ, WEEK, extra=extra, hours=EMPTY)
    closure = cal.holiday(jalali_date("1405-09-10"))
    assert closure is not None and closure.name_en == "Air pollution closure"
    assert cal.holiday(jalali_date("1405-04-03")) is None
    assert cal.holiday(jalali_date("1405-04-04")) is None
    moved = cal.holiday(jalali_date("1405-04-05"))
    assert moved is not None and moved.name_en == "Ashura"
    # The local closure (Tuesday 1 Dec 2026) pushes a Monday 15:00 request a day later.
    assert office_due(local(2026, 11, 30, 15), cal=cal) == local(2026, 12, 6, 10)


def test_holidays_extra_bad_rows_are_reported_by_line(tmp_path: Path) -> None:
    extra = tmp_path / "holidays-extra.csv"
    extra.write_text("action,date,to,name_fa,name_en,note\nadd,1405-13-01,,x,x,\n"
                     "move,1405-04-04,,,,\n", encoding="utf-8")
    with pytest.raises(ImportError_) as info:
        load_calendar(TZ, WEEK, extra=extra, hours=EMPTY)
    assert "line 2" in str(info.value)


def test_dated_hours_override(tmp_path: Path) -> None:
    hours = tmp_path / "office-hours.csv"
    hours.write_text("first,last,days,hours,note\n"
                     "1405-09-08,1405-09-12,sat-wed,08:00-13:00,energy saving\n"
                     "1405-09-10,1405-09-10,all,closed,emergency closure\n", encoding="utf-8")
    cal = load_calendar(TZ, WEEK, extra=EMPTY, hours=hours)
    assert cal.hours_on(jalali_date("1405-09-09")) == WorkWeek.parse("sat 08:00-13:00").hours[5]
    assert cal.hours_on(jalali_date("1405-09-10")) == ()
    assert cal.hours_on(jalali_date("1405-09-15")) == WEEK.hours[5]


@pytest.mark.parametrize("value", ["sat-wed 8-16", "sat-wed 16:00-08:00", "xyz 08:00-16:00",
                                   "wed-sat 08:00-16:00", "sat 08:00-12:00; sat 13:00-14:00",
                                   "fri closed"])
def test_bad_work_week_is_one_line(value: str) -> None:
    with pytest.raises(CalendarError):
        WorkWeek.parse(value)
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None, work_week=value)
    assert str(info.value).startswith("WORK_WEEK:") and "\n" not in str(info.value)


def test_quiet_hours() -> None:
    quiet = QuietHours.parse("21:00-07:30")
    assert quiet is not None and QuietHours.parse("off") is None
    assert quiet.release(local(2026, 11, 25, 5, 54), TZ) == local(2026, 11, 25, 7, 30)
    assert quiet.release(local(2026, 11, 25, 22), TZ) == local(2026, 11, 26, 7, 30)
    assert quiet.release(local(2026, 11, 25, 12), TZ) == local(2026, 11, 25, 12)
    with pytest.raises(ConfigError):
        load_settings(_env_file=None, quiet_hours="21-7")


def test_windows_and_reminder_offsets() -> None:
    choose = sla.choose_window
    args = {"calendar_hours": 72, "office_hours": 24, "urgent_hours": 24}
    assert choose(mode=ClockKind.CALENDAR, urgent=False, **args) == Window(ClockKind.CALENDAR, 72)
    assert choose(mode=ClockKind.OFFICE, urgent=False, **args) == Window(ClockKind.OFFICE, 24)
    assert choose(mode=ClockKind.OFFICE, urgent=True, **args) == Window(ClockKind.CALENDAR, 24)
    social = Window(ClockKind.CALENDAR, 12)
    assert choose(mode=ClockKind.OFFICE, urgent=False, category=social, **args) == social
    assert choose(mode=ClockKind.OFFICE, urgent=True, category=social, **args) == social
    # 72 h: as configured; 24 h: the 24 h reminder is scaled to a third (8 h), 6 h kept.
    assert sla.reminder_offsets(72, [24, 6], 72) == (24, 6)
    assert sla.reminder_offsets(24, [24, 6], 72) == (8, 6)
    assert sla.reminder_offsets(6, [24, 6], 72) == (2, 0.5)
    assert sla.reminder_offsets(1, [24, 6], 72) == (0.33,)    # under 15 min: skipped
    assert sla.remind_action(0.5) == "remind_30m" and sla.remind_action(6) == "remind_6"


def test_office_reminders_and_second_escalation_use_office_time() -> None:
    filed = local(2026, 11, 25, 15)             # due Monday 10:00
    due = office_due(filed)
    assert sla.next_check(due, [8, 6], filed, CAL) == local(2026, 11, 29, 10)  # Sun 10:00
    plan = sla.due_actions(due, due, paused_at=None, first_response_at=None, closed=False,
                           reminder_hours=[8, 6], second_escalation_hours=24,
                           done={"remind_8": filed, "remind_6": filed}, span=CAL)
    assert plan.actions == (sla.BREACH,)
    assert plan.next_at == local(2026, 12, 3, 10)     # 24 office hours after Monday 10:00


def test_pause_adds_back_office_time_only() -> None:
    filed = local(2026, 11, 25, 15)
    due = office_due(filed)                     # Monday 10:00
    # Paused Wednesday 15:30 (half an hour counted), resumed Saturday 09:00: the office time
    # paused is 30 min (Wed) + 5 h (Thu) + 1 h (Sat) = 6.5 h.
    changes = sla.on_resume(local(2026, 11, 25, 15, 30), due, None, [8, 6],
                            local(2026, 11, 28, 9), CAL)
    # 23.5 office hours were left at the pause; from Saturday 09:00 that is Tuesday 08:30.
    assert changes["due_at"] == local(2026, 12, 1, 8, 30)
    assert CAL.between(local(2026, 11, 28, 9), changes["due_at"]) == 23.5 * H
    assert changes["sla_next_at"] == CAL.sub(local(2026, 12, 1, 8, 30), 8 * H)


def test_describe_and_working_days() -> None:
    filed = local(2026, 11, 25, 15)
    due = office_due(filed)
    state, left = sla.describe(due, filed, None, None, CAL)
    assert state is sla.SlaState.DUE and left == 24 * H
    assert CAL.working_days_until(local(2026, 11, 26, 9), due) == 3     # Sat, Sun, Mon
    assert CAL.working_days_until(due, due) == 0
    assert CAL.next_working_morning(local(2026, 11, 26, 9)) == local(2026, 11, 28, 8)
    assert CAL.is_open(local(2026, 11, 26, 12)) and not CAL.is_open(local(2026, 11, 26, 13))


# --------------------------------------------------------------------------- properties

moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31),
                       timezones=st.just(UTC))
windows = st.integers(min_value=1, max_value=24 * 10)


@settings(max_examples=300, deadline=None)
@given(filed=moments, hours=windows)
def test_office_due_is_inside_office_hours_on_a_working_day(filed: datetime, hours: int
                                                            ) -> None:
    due = office_due(filed, hours)
    day = CAL.local_date(due)
    assert day.weekday() != 4                   # never a Friday
    assert CAL.holiday(day) is None             # never an IR holiday
    assert any(a < due <= b for a, b in CAL.intervals(day))   # closing time included
    assert CAL.between(filed, due) == timedelta(hours=hours)


@settings(max_examples=300, deadline=None)
@given(a=moments, b=moments, hours=windows)
def test_office_due_is_monotone_in_the_filing_time(a: datetime, b: datetime, hours: int
                                                   ) -> None:
    first, second = sorted((a, b))
    assert office_due(first, hours) <= office_due(second, hours)


@settings(max_examples=200, deadline=None)
@given(filed=moments, hours=windows)
def test_calendar_mode_equals_wall_time(filed: datetime, hours: int) -> None:
    assert sla.initial_due(filed, hours) == filed + timedelta(hours=hours)
    assert sla.initial_due(filed, hours, WALL) == filed + timedelta(hours=hours)


@settings(max_examples=200, deadline=None)
@given(filed=moments, hours=windows, back=st.integers(min_value=1, max_value=60 * 24 * 3))
def test_sub_walks_back_what_add_walked(filed: datetime, hours: int, back: int) -> None:
    due = office_due(filed, hours)
    amount = timedelta(minutes=back)
    earlier = CAL.sub(due, amount)
    assert earlier < due and CAL.between(earlier, due) == amount
    assert CAL.add(earlier, amount) == due


@settings(max_examples=100, deadline=None)
@given(filed=moments, hours=st.integers(min_value=1, max_value=24 * 30))
def test_reminders_never_at_filing_time(filed: datetime, hours: int) -> None:
    for measure in (WALL, CAL):
        due = sla.initial_due(filed, hours, measure)
        offsets = sla.reminder_offsets(hours, [24, 6], 72)
        assert all(measure.sub(due, timedelta(hours=h)) > filed for h in offsets)


def test_holiday_book_without_the_package() -> None:
    book = HolidayBook({date(2026, 1, 1): "x"}, {}, [HolidayChange("cancel", date(2026, 1, 1))])
    assert book.get(date(2026, 1, 1)) is None


def test_a_bad_calendar_file_stops_the_start_in_one_line(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.reference as reference

    assert reference.calendar_problem(TZ, WEEK) is None          # the shipped files
    (tmp_path / "holidays-extra.csv").write_text(
        "action,date,to,name_fa,name_en,note\nadd,1405-07-31,,x,x,\n", encoding="utf-8")
    monkeypatch.setattr(reference, "DATA_DIR", tmp_path)
    problem = reference.calendar_problem(TZ, WEEK)
    assert problem is not None and "holidays-extra.csv" in problem and "line 2" in problem
    assert "\n" not in problem
