"""Report periods: what `/stats` and `/export` understand after the command (pure rules).

    (nothing)              the last 30 days, today included
    هفته · week            the last 7 days;   ماه · month  the last 30 days
    آذر · azar             the latest Azar that has begun (this year's, or last year's)
    آذر ۱۴۰۴ · azar 1404   that month
    ۱۴۰۵/۰۹ · 1405-09      a Jalali month;    2026-11  a Gregorian month
    1405/09/05             one day (Jalali);   2026-11-26  one day (Gregorian)
    1405/09/01 1405/09/30  a range of days or months (either calendar; «تا»/«to» allowed)

A period is whole local days: [first day 00:00, day after the last 00:00) in the bot's time
zone. Requests belong to it by their filing time. Digits may be Persian or Arabic-Indic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum

import jdatetime  # type: ignore[import-untyped, unused-ignore]

from bot.domain.text import to_ascii_digits

DEFAULT_DAYS = 30
WEEK_DAYS = 7
GREGORIAN_FROM = 1700          # a year at or above this is Gregorian, below it Jalali

WEEK_WORDS = frozenset({"هفته", "week", "w", "7d"})
MONTH_WORDS = frozenset({"ماه", "month", "m", "30d"})
FILLER = frozenset({"تا", "to", "از", "from", "-", "–", "—", "until"})

# Jalali month names as people type them (Persian and the usual Latin spellings).
MONTH_NUMBERS: dict[str, int] = {}
for _number, _names in enumerate((
        ("فروردین", "farvardin"), ("اردیبهشت", "ordibehesht"), ("خرداد", "khordad"),
        ("تیر", "tir"), ("مرداد", "امرداد", "mordad", "amordad"), ("شهریور", "shahrivar"),
        ("مهر", "mehr"), ("آبان", "aban"), ("آذر", "azar"), ("دی", "dey", "dei"),
        ("بهمن", "bahman"), ("اسفند", "esfand")), start=1):
    for _name in _names:
        MONTH_NUMBERS[_name] = _number

_SPLIT = re.compile(r"[/\-.]")


class PeriodProblem(StrEnum):
    UNREADABLE = "unreadable"      # words or numbers that are not a period
    BAD_DATE = "bad_date"          # looks like a date but there is no such day/month
    REVERSED = "reversed"          # ends before it starts


class PeriodError(ValueError):
    def __init__(self, problem: PeriodProblem, text: str) -> None:
        super().__init__(f"{problem}: {text!r}")
        self.problem = problem
        self.text = text


@dataclass(frozen=True)
class Period:
    """Whole local days, first to last inclusive; `start`/`end` are aware (local zone)."""

    first_day: date
    last_day: date
    tz: tzinfo

    @property
    def start(self) -> datetime:
        return datetime(self.first_day.year, self.first_day.month, self.first_day.day,
                        tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        after = self.last_day + timedelta(days=1)
        return datetime(after.year, after.month, after.day, tzinfo=self.tz)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def jalali_bounds(self) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """(y, m, d) of the first and last day in the Jalali calendar."""
        a = jdatetime.date.fromgregorian(date=self.first_day)
        b = jdatetime.date.fromgregorian(date=self.last_day)
        return (int(a.year), int(a.month), int(a.day)), (int(b.year), int(b.month), int(b.day))


def last_days(days: int, now: datetime, tz: tzinfo) -> Period:
    today = now.astimezone(tz).date()
    return Period(today - timedelta(days=days - 1), today, tz)


def _fold(word: str) -> str:
    word = to_ascii_digits(word.strip().lower())
    return word.replace("ي", "ی").replace("ك", "ک").replace("\u200c", "")


def _jalali_month(year: int, month: int) -> tuple[date, date]:
    first = jdatetime.date(year, month, 1)
    nxt = jdatetime.date(year + (month == 12), month % 12 + 1, 1)
    return first.togregorian(), nxt.togregorian() - timedelta(days=1)


def _gregorian_month(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def _span(token: str, text: str) -> tuple[date, date]:
    """One numeric token: a day or a month, in either calendar."""
    parts = _SPLIT.split(token)
    # A date has no part longer than 4 digits (a longer one overflows the date types).
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() and len(p) <= 4 for p in parts):
        raise PeriodError(PeriodProblem.UNREADABLE, text)
    numbers = [int(p) for p in parts]
    year = numbers[0]
    if year < 1000:
        raise PeriodError(PeriodProblem.UNREADABLE, text)
    try:
        if len(numbers) == 2:
            month = numbers[1]
            return (_jalali_month(year, month) if year < GREGORIAN_FROM
                    else _gregorian_month(year, month))
        _, month, day = numbers
        if year < GREGORIAN_FROM:
            g = jdatetime.date(year, month, day).togregorian()
            one = date(g.year, g.month, g.day)
        else:
            one = date(year, month, day)
        return one, one
    except (ValueError, OverflowError) as exc:
        raise PeriodError(PeriodProblem.BAD_DATE, text) from exc


def _named_month(words: list[str], now: datetime, tz: tzinfo, text: str) -> Period:
    """«آذر» (the latest Azar that has begun) or «آذر ۱۴۰۴» / «۱۴۰۴ آذر»."""
    month = next(MONTH_NUMBERS[w] for w in words if w in MONTH_NUMBERS)
    years = [w for w in words if w not in MONTH_NUMBERS]
    if len(words) > 2 or (years and not years[0].isdigit()):
        raise PeriodError(PeriodProblem.UNREADABLE, text)
    if years:
        year = int(years[0])
        if not 1000 <= year < GREGORIAN_FROM:
            raise PeriodError(PeriodProblem.BAD_DATE, text)
    else:
        today = jdatetime.date.fromgregorian(date=now.astimezone(tz).date())
        year = int(today.year) if int(today.month) >= month else int(today.year) - 1
    try:
        first, last = _jalali_month(year, month)
    except ValueError as exc:
        raise PeriodError(PeriodProblem.BAD_DATE, text) from exc
    return Period(first, last, tz)


def parse_period(text: str, now: datetime, tz: tzinfo) -> Period:
    """The period written after the command; raises `PeriodError` when it is not one."""
    words = [_fold(w) for w in text.split()]
    words = [w for w in words if w and w not in FILLER]
    if not words:
        return last_days(DEFAULT_DAYS, now, tz)
    if len(words) == 1 and words[0] in WEEK_WORDS:
        return last_days(WEEK_DAYS, now, tz)
    if len(words) == 1 and words[0] in MONTH_WORDS:
        return last_days(DEFAULT_DAYS, now, tz)
    if any(w in MONTH_NUMBERS for w in words):
        return _named_month(words, now, tz, text)
    if len(words) > 2:
        raise PeriodError(PeriodProblem.UNREADABLE, text)
    first, last = _span(words[0], text)
    if len(words) == 2:
        _, last = _span(words[1], text)
    if last < first:
        raise PeriodError(PeriodProblem.REVERSED, text)
    return Period(first, last, tz)
