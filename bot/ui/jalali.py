"""Jalali (Solar Hijri) date/time and duration formatting for the bot's two locales.

Dates are always shown in the Jalali calendar and in Iran time (``Asia/Tehran`` by
default). ``fa`` uses Persian month names and Persian digits; ``en`` (and any other
locale) uses transliterated month names and Latin digits. Iran abolished daylight saving
time in 2022; ``zoneinfo`` knows that, so old dates get +04:30 in summer and new ones
+03:30 all year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime  # type: ignore[import-untyped, unused-ignore]

from bot.domain.text import to_persian_digits

__all__ = [
    "MONTHS_EN",
    "MONTHS_FA",
    "TEHRAN",
    "format_date",
    "format_datetime",
    "format_duration",
    "is_persian",
    "jalali_ymd",
    "tehran_now",
    "to_local",
]

TEHRAN = "Asia/Tehran"

MONTHS_FA: tuple[str, ...] = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
MONTHS_EN: tuple[str, ...] = (
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
)


def is_persian(locale: str) -> bool:
    """True for ``fa``, ``fa-IR``, ``fa_IR``...; everything else is treated as English."""
    return locale.strip().lower().replace("_", "-").split("-")[0] == "fa"


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC)")


def to_local(dt: datetime, tz: str = TEHRAN) -> datetime:
    """Convert an aware datetime to the zone ``tz`` (Iran time by default)."""
    _require_aware(dt)
    return dt.astimezone(ZoneInfo(tz))


def tehran_now(clock_dt: datetime | None = None, tz: str = TEHRAN) -> datetime:
    """The current moment (or ``clock_dt``, e.g. from an injectable clock) in Iran time."""
    if clock_dt is None:
        clock_dt = datetime.now(UTC)
    return to_local(clock_dt, tz)


def jalali_ymd(dt: datetime, tz: str = TEHRAN) -> tuple[int, int, int]:
    """Jalali (year, month, day) of the local date of aware ``dt`` in zone ``tz``."""
    local = to_local(dt, tz)
    j = jdatetime.date.fromgregorian(date=local.date())
    return int(j.year), int(j.month), int(j.day)


def format_datetime(
    dt: datetime, locale: str, tz: str = TEHRAN, *, with_time: bool = True
) -> str:
    """Format an aware datetime as a Jalali date in zone ``tz``.

    ``fa``: "۵ آذر ۱۴۰۵، ساعت ۱۴:۳۰"; ``en``: "5 Azar 1405, 14:30".
    Without time: "۵ آذر ۱۴۰۵" / "5 Azar 1405". Naive datetimes raise ``ValueError``.
    """
    local = to_local(dt, tz)
    year, month, day = jalali_ymd(dt, tz)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    if is_persian(locale):
        text = f"{day} {MONTHS_FA[month - 1]} {year}"
        if with_time:
            text += f"، ساعت {clock}"
        return to_persian_digits(text)
    text = f"{day} {MONTHS_EN[month - 1]} {year}"
    if with_time:
        text += f", {clock}"
    return text


def format_date(dt: datetime, locale: str, tz: str = TEHRAN) -> str:
    """``format_datetime`` without the time of day."""
    return format_datetime(dt, locale, tz, with_time=False)


def _en_unit(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def format_duration(td: timedelta, locale: str) -> str:
    """Human duration with the two most significant units, sign ignored.

    ``fa``: "۴۵ دقیقه", "۳ ساعت", "۳ ساعت و ۲۰ دقیقه", "۲ روز و ۵ ساعت";
    ``en``: "45 minutes", "3 hours", "3 hours 20 minutes", "2 days 5 hours".
    Seconds are dropped (rounded down); under a minute gives "کمتر از یک دقیقه" /
    "less than a minute". Callers add "due in"/"overdue" themselves.
    """
    total_minutes = int(abs(td).total_seconds()) // 60
    days, rem = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rem, 60)
    fa = is_persian(locale)
    if total_minutes == 0:
        return "کمتر از یک دقیقه" if fa else "less than a minute"
    if days:
        parts = [(days, "روز", "day"), (hours, "ساعت", "hour")]
    elif hours:
        parts = [(hours, "ساعت", "hour"), (minutes, "دقیقه", "minute")]
    else:
        parts = [(minutes, "دقیقه", "minute")]
    shown = [p for p in parts if p[0]]
    if fa:
        return to_persian_digits(" و ".join(f"{n} {unit}" for n, unit, _ in shown))
    return " ".join(_en_unit(n, unit) for n, _, unit in shown)
