"""Jalali (Solar Hijri) date/time and duration formatting in the reader's language.

Dates are always shown in the Jalali calendar and in Iran time (``Asia/Tehran`` by
default). Month names, weekday names, the date/time patterns and the duration words are
gettext messages (Babel formats only the Gregorian calendar), so a new language is a
catalogue in ``locales/``, not code. ``fa`` gets Persian words and Persian digits; a locale
without a catalogue gets the English source strings. Iran abolished daylight saving time in
2022; ``zoneinfo`` knows that, so old dates get +04:30 in summer and new ones +03:30 all year.
"""

from __future__ import annotations

import gettext
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime  # type: ignore[import-untyped, unused-ignore]

from bot.config import SUPPORTED_LOCALES
from bot.i18n import N_, Translator, translator

__all__ = [
    "MONTHS",
    "TEHRAN",
    "WEEKDAYS",
    "format_date",
    "format_datetime",
    "format_due",
    "format_duration",
    "format_weekday",
    "is_persian",
    "jalali_ymd",
    "month_names",
    "tehran_now",
    "to_local",
]

TEHRAN = "Asia/Tehran"

# The Jalali months, as msgids (English transliteration; Persian in the catalogue).
MONTHS: tuple[str, ...] = (
    N_("Farvardin"),
    N_("Ordibehesht"),
    N_("Khordad"),
    N_("Tir"),
    N_("Mordad"),
    N_("Shahrivar"),
    N_("Mehr"),
    N_("Aban"),
    N_("Azar"),
    N_("Dey"),
    N_("Bahman"),
    N_("Esfand"),
)
# The Iranian week starts on Saturday: WEEKDAYS[0] is Saturday (jdatetime's weekday() 0).
WEEKDAYS: tuple[str, ...] = (
    N_("Saturday"),
    N_("Sunday"),
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
)

# The English source, for locales without a catalogue (today: anything not fa/en).
_SOURCE = Translator("en", gettext.NullTranslations())


def _tr(locale: str) -> Translator:
    """The catalogue of ``fa``, ``fa-IR``, ``FA_ir``, ``en``...; the English source otherwise."""
    short = locale.strip().lower().replace("_", "-").split("-")[0]
    return translator(short) if short in SUPPORTED_LOCALES else _SOURCE


def month_names(locale: str) -> tuple[str, ...]:
    """The twelve Jalali month names in ``locale`` (Farvardin first)."""
    tr = _tr(locale)
    return tuple(tr._(m) for m in MONTHS)


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
    tr = _tr(locale)
    local = to_local(dt, tz)
    year, month, day = jalali_ymd(dt, tz)
    # A Jalali date: day of month, month name, year ("5 Azar 1405").
    text = tr._("{day} {month} {year}").format(day=day, month=tr._(MONTHS[month - 1]),
                                                year=year)
    if with_time:
        # A date and a 24-hour time of day ("5 Azar 1405, 14:30").
        text = tr._("{date}, {time}").format(
            date=text, time=f"{local.hour:02d}:{local.minute:02d}")
    return tr.digits(text)


def format_date(dt: datetime, locale: str, tz: str = TEHRAN) -> str:
    """``format_datetime`` without the time of day."""
    return format_datetime(dt, locale, tz, with_time=False)


def format_due(dt: datetime, locale: str, tz: str = TEHRAN) -> str:
    """A due moment people can act on: weekday, Jalali date and time
    ("دوشنبه ۱۰ آذر ۱۴۰۵، ساعت ۱۰:۰۰" / "Monday 10 Azar 1405, 10:00")."""
    tr = _tr(locale)
    # A weekday before a date and time ("Monday 10 Azar 1405, 10:00").
    return tr._("{weekday} {datetime}").format(weekday=format_weekday(dt, locale, tz),
                                               datetime=format_datetime(dt, locale, tz))


def format_weekday(dt: datetime, locale: str, tz: str = TEHRAN) -> str:
    """The local weekday name of aware ``dt`` in zone ``tz`` ("Saturday" / "شنبه")."""
    local = to_local(dt, tz)
    weekday = jdatetime.date.fromgregorian(date=local.date()).weekday()  # 0 = Saturday
    return _tr(locale)._(WEEKDAYS[int(weekday)])


def _amount(tr: Translator, unit: str, n: int) -> str:
    if unit == "day":
        return tr.ngettext("{n} day", "{n} days", n).format(n=n)
    if unit == "hour":
        return tr.ngettext("{n} hour", "{n} hours", n).format(n=n)
    return tr.ngettext("{n} minute", "{n} minutes", n).format(n=n)


def format_duration(td: timedelta, locale: str) -> str:
    """Human duration with the two most significant units, sign ignored.

    ``fa``: "۴۵ دقیقه", "۳ ساعت", "۳ ساعت و ۲۰ دقیقه", "۲ روز و ۵ ساعت";
    ``en``: "45 minutes", "3 hours", "3 hours 20 minutes", "2 days 5 hours".
    Seconds are dropped (rounded down); under a minute gives "کمتر از یک دقیقه" /
    "less than a minute". Callers add "due in"/"overdue" themselves.
    """
    tr = _tr(locale)
    total_minutes = int(abs(td).total_seconds()) // 60
    days, rem = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rem, 60)
    if total_minutes == 0:
        return tr._("less than a minute")
    if days:
        parts = [("day", days), ("hour", hours)]
    elif hours:
        parts = [("hour", hours), ("minute", minutes)]
    else:
        parts = [("minute", minutes)]
    shown = [_amount(tr, unit, n) for unit, n in parts if n]
    text = shown[0]
    if len(shown) == 2:
        # Two parts of a duration, the larger unit first ("3 hours 20 minutes").
        text = tr._("{larger} {smaller}").format(larger=shown[0], smaller=shown[1])
    return tr.digits(text)
