"""The working calendar: office hours, Iran's holidays, dated changes of hours, quiet hours.

Pure: every function takes the moments it needs (aware datetimes, returned in UTC) and the
calendar is built from values (settings, data rows, a holiday mapping such as the `holidays`
package's `IR` calendar), never from the clock, files or the network.

Office time is a measure along the time line: `add(start, d)` is the earliest moment at which
`d` office time has passed since `start` (a request filed outside office hours starts counting
at the next opening; a window that ends exactly at closing time is due at closing time), `sub`
walks back, and `between(a, b)` measures office time in [a, b]. The wall clock (`WALL`) has the
same three operations, so the SLA rules in `bot.domain.sla` work unchanged with either.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

# Iranian week order (Saturday first); values are Python weekdays (Monday = 0).
DAY_CODES: dict[str, int] = {"sat": 5, "sun": 6, "mon": 0, "tue": 1, "wed": 2, "thu": 3,
                             "fri": 4}
WEEK_ORDER = ["sat", "sun", "mon", "tue", "wed", "thu", "fri"]
DEFAULT_WORK_WEEK = "sat-wed 08:00-16:00; thu 08:00-13:00"
DEFAULT_QUIET_HOURS = "21:00-07:30"
MAX_DAYS = 3660          # walks give up after ten years without office time
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class CalendarError(ValueError):
    """A work week, hours or quiet-hours value is malformed (the message says how)."""


class Span(Protocol):
    """A way of measuring time against a response window: wall time or office time."""

    def add(self, start: datetime, amount: timedelta) -> datetime: ...

    def sub(self, end: datetime, amount: timedelta) -> datetime: ...

    def between(self, start: datetime, end: datetime) -> timedelta: ...


class WallSpan:
    """Calendar (wall-clock) time: plain arithmetic."""

    def add(self, start: datetime, amount: timedelta) -> datetime:
        return start + amount

    def sub(self, end: datetime, amount: timedelta) -> datetime:
        return end - amount

    def between(self, start: datetime, end: datetime) -> timedelta:
        return end - start


WALL = WallSpan()


# --------------------------------------------------------------------------- parsing

def parse_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match:
        raise CalendarError(f"{text.strip()!r} is not a time HH:MM")
    return time(int(match[1]), int(match[2]))


Interval = tuple[time, time]


def parse_intervals(text: str) -> tuple[Interval, ...]:
    """`08:00-16:00` or `08:00-12:00,13:00-16:00`; `closed` (or empty) is no hours."""
    text = text.strip()
    if text.lower() in ("", "closed", "off"):
        return ()
    result: list[Interval] = []
    for part in text.split(","):
        pieces = part.split("-")
        if len(pieces) != 2:
            raise CalendarError(f"{part.strip()!r} is not a range HH:MM-HH:MM")
        opens, closes = parse_time(pieces[0]), parse_time(pieces[1])
        if opens >= closes:
            raise CalendarError(f"{part.strip()!r}: opening must be before closing")
        if result and opens < result[-1][1]:
            raise CalendarError(f"{part.strip()!r} overlaps or precedes the range before it")
        result.append((opens, closes))
    return tuple(result)


def parse_days(text: str) -> list[int]:
    """`sat-wed`, `thu`, `sat,mon` or `all` -> Python weekdays (in Iranian week order)."""
    text = text.strip().lower()
    if text in ("all", "*"):
        return [DAY_CODES[d] for d in WEEK_ORDER]
    days: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            first, last = (p.strip() for p in part.split("-", 1))
            if first not in DAY_CODES or last not in DAY_CODES:
                raise CalendarError(f"{part!r}: days are {', '.join(WEEK_ORDER)}")
            i, j = WEEK_ORDER.index(first), WEEK_ORDER.index(last)
            if i > j:
                raise CalendarError(f"{part!r}: the week runs Saturday to Friday")
            days.extend(DAY_CODES[d] for d in WEEK_ORDER[i:j + 1])
        elif part in DAY_CODES:
            days.append(DAY_CODES[part])
        else:
            raise CalendarError(f"{part!r}: days are {', '.join(WEEK_ORDER)}")
    return days


@dataclass(frozen=True)
class WorkWeek:
    """Office hours per Python weekday; a missing day is a day off."""

    hours: Mapping[int, tuple[Interval, ...]]

    @classmethod
    def parse(cls, text: str) -> WorkWeek:
        """`sat-wed 08:00-16:00; thu 08:00-13:00` (days not named are off)."""
        hours: dict[int, tuple[Interval, ...]] = {}
        for entry in text.split(";"):
            entry = entry.strip()
            if not entry:
                continue
            parts = entry.split(None, 1)
            if len(parts) != 2:
                raise CalendarError(f"{entry!r}: write DAYS HH:MM-HH:MM, e.g. sat-wed 08:00-16:00")
            for day in parse_days(parts[0]):
                if day in hours:
                    raise CalendarError(f"{entry!r}: a day is named twice")
                hours[day] = parse_intervals(parts[1])
        if not any(hours.values()):
            raise CalendarError("the work week has no office hours")
        return cls(hours)


@dataclass(frozen=True)
class QuietHours:
    """A nightly span in local time (may cross midnight) in which people are not pinged."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """`21:00-07:30`; empty or `off` is no quiet hours."""
        text = text.strip()
        if text.lower() in ("", "off", "none"):
            return None
        pieces = text.split("-")
        if len(pieces) != 2:
            raise CalendarError(f"{text!r} is not a range HH:MM-HH:MM")
        start, end = parse_time(pieces[0]), parse_time(pieces[1])
        if start == end:
            raise CalendarError(f"{text!r}: start and end are the same")
        return cls(start, end)

    def contains(self, moment: datetime, tz: tzinfo) -> bool:
        local = moment.astimezone(tz).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release(self, moment: datetime, tz: tzinfo) -> datetime:
        """`moment` itself outside quiet hours, else the quiet span's end (UTC)."""
        if not self.contains(moment, tz):
            return moment
        local = moment.astimezone(tz)
        day = local.date()
        if local.time() >= self.end:      # evening part of a span crossing midnight
            day += timedelta(days=1)
        return _at(day, self.end, tz)


# --------------------------------------------------------------------------- holidays

@dataclass(frozen=True)
class Holiday:
    name_fa: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_fa if locale == "fa" else self.name_en


@dataclass(frozen=True)
class HolidayChange:
    """A row of data/holidays-extra.csv, already in Gregorian dates.

    add: `day` is a closure named `name_*`; cancel: `day` is not a holiday after all;
    move: the holiday on `day` is on `to` instead (names default to the moved one's)."""

    action: str            # add | cancel | move
    day: date
    to: date | None = None
    name_fa: str = ""
    name_en: str = ""


class HolidayBook:
    """Official holidays (e.g. `holidays.country_holidays("IR", language="fa_IR")`, which
    expands years lazily) corrected by local changes."""

    def __init__(self, official_fa: Mapping[date, str], official_en: Mapping[date, str],
                 changes: Sequence[HolidayChange] = ()) -> None:
        self._fa = official_fa
        self._en = official_en
        self._cancelled: set[date] = set()
        self._added: dict[date, Holiday] = {}
        for change in changes:
            if change.action == "cancel":
                self._cancelled.add(change.day)
                self._added.pop(change.day, None)
            elif change.action == "add":
                self._added[change.day] = Holiday(change.name_fa, change.name_en or
                                                  change.name_fa)
                self._cancelled.discard(change.day)
            elif change.action == "move" and change.to is not None:
                moved = self._official(change.day)
                self._cancelled.add(change.day)
                self._added.pop(change.day, None)
                self._added[change.to] = Holiday(
                    change.name_fa or (moved.name_fa if moved else ""),
                    change.name_en or (moved.name_en if moved else change.name_fa))
                self._cancelled.discard(change.to)
            else:
                raise CalendarError(f"unknown holiday change {change.action!r}")
        self._cache: dict[date, Holiday | None] = {}

    def _official(self, day: date) -> Holiday | None:
        name_fa = self._fa.get(day)
        if name_fa is None:
            return None
        return Holiday(name_fa, self._en.get(day) or name_fa)

    def get(self, day: date) -> Holiday | None:
        if day not in self._cache:
            if day in self._added:
                found: Holiday | None = self._added[day]
            elif day in self._cancelled:
                found = None
            else:
                found = self._official(day)
            self._cache[day] = found
        return self._cache[day]


NO_HOLIDAYS = HolidayBook({}, {})


@dataclass(frozen=True)
class HoursOverride:
    """Dated hours (Ramadan hours, an energy-saving closure): on `days` of the week between
    `first` and `last` (inclusive) the office keeps `hours` (empty: closed)."""

    first: date
    last: date
    days: frozenset[int]
    hours: tuple[Interval, ...]
    note: str = ""


# --------------------------------------------------------------------------- the calendar

def _at(day: date, moment: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


@dataclass
class WorkCalendar:
    """Office time in one time zone. Implements `Span` (add, sub, between)."""

    tz: tzinfo
    week: WorkWeek
    holidays: HolidayBook = NO_HOLIDAYS
    overrides: Sequence[HoursOverride] = ()
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(default_factory=dict,
                                                                     repr=False)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """Local office hours of a date (none on days off and holidays)."""
        if self.holidays.get(day) is not None:
            return ()
        weekday = day.weekday()
        for override in reversed(self.overrides):
            if override.first <= day <= override.last and weekday in override.days:
                return override.hours
        return tuple(self.week.hours.get(weekday, ()))

    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The date's office hours as UTC intervals (cached)."""
        found = self._days.get(day)
        if found is None:
            found = tuple((_at(day, a, self.tz), _at(day, b, self.tz))
                          for a, b in self.hours_on(day))
            self._days[day] = found
        return found

    def is_working_day(self, day: date) -> bool:
        return bool(self.hours_on(day))

    def is_open(self, moment: datetime) -> bool:
        return any(a <= moment < b for a, b in self.intervals(self.local_date(moment)))

    def holiday(self, day: date) -> Holiday | None:
        return self.holidays.get(day)

    def holidays_between(self, start: datetime, end: datetime) -> list[tuple[date, Holiday]]:
        """Holidays on the local dates from `start` to `end` (both included)."""
        found = []
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            holiday = self.holidays.get(day)
            if holiday is not None:
                found.append((day, holiday))
            day += timedelta(days=1)
        return found

    def add(self, start: datetime, amount: timedelta) -> datetime:
        if amount < timedelta():
            return self.sub(start, -amount)
        remaining = amount
        day = self.local_date(start)
        for _ in range(MAX_DAYS):
            for opens, closes in self.intervals(day):
                if closes <= start:
                    continue
                begin = max(opens, start)
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise CalendarError("no office hours in ten years")

    def sub(self, end: datetime, amount: timedelta) -> datetime:
        if amount < timedelta():
            return self.add(end, -amount)
        remaining = amount
        day = self.local_date(end)
        for _ in range(MAX_DAYS):
            for opens, closes in reversed(self.intervals(day)):
                if opens >= end:
                    continue
                finish = min(closes, end)
                available = finish - opens
                if remaining <= available:
                    return finish - remaining
                remaining -= available
            day -= timedelta(days=1)
        raise CalendarError("no office hours in ten years")

    def between(self, start: datetime, end: datetime) -> timedelta:
        if end < start:
            return -self.between(end, start)
        total = timedelta()
        day, last = self.local_date(start), self.local_date(end)
        while day <= last:
            for opens, closes in self.intervals(day):
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total

    def next_opening(self, moment: datetime) -> datetime:
        """`moment` if the office is open then, else the next opening."""
        return moment if self.is_open(moment) else self._opening_after(moment)

    def _opening_after(self, moment: datetime) -> datetime:
        day = self.local_date(moment)
        for _ in range(MAX_DAYS):
            for opens, _closes in self.intervals(day):
                if opens >= moment:
                    return opens
            day += timedelta(days=1)
        raise CalendarError("no office hours in ten years")

    def next_working_morning(self, moment: datetime) -> datetime:
        """The first opening of the next working day after `moment`'s local date."""
        day = self.local_date(moment) + timedelta(days=1)
        for _ in range(MAX_DAYS):
            found = self.intervals(day)
            if found:
                return found[0][0]
            day += timedelta(days=1)
        raise CalendarError("no office hours in ten years")

    def working_days_until(self, now: datetime, due: datetime) -> int:
        """How many working days from today to the due date: 0 = due today, 1 = the next
        working day, and so on (negative never: a past due gives 0)."""
        day, last = self.local_date(now), self.local_date(due)
        count = 0
        while day < last:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def holiday_moved(calendar: WorkCalendar, start: datetime, due: datetime
                  ) -> list[tuple[date, Holiday]]:
    """The holidays between filing and the due moment that pushed it later (office time):
    those on what would otherwise be working days."""
    found = []
    for day, holiday in calendar.holidays_between(start, due):
        if calendar.week.hours.get(day.weekday()):
            found.append((day, holiday))
    return found

