"""Tests for bot.ui.jalali."""

from __future__ import annotations

import gettext
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ui.jalali import (
    format_date,
    format_datetime,
    format_duration,
    format_weekday,
    is_persian,
    jalali_ymd,
    month_names,
    tehran_now,
    to_local,
)

MONTHS_FA = month_names("fa")
MONTHS_EN = month_names("en")

DATES = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


def test_examples_from_spec() -> None:
    dt = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # 14:30 in Tehran
    assert format_datetime(dt, "fa") == "۵ آذر ۱۴۰۵، ساعت ۱۴:۳۰"
    assert format_datetime(dt, "en") == "5 Azar 1405, 14:30"
    assert format_datetime(dt, "fa", with_time=False) == "۵ آذر ۱۴۰۵"
    assert format_date(dt, "en") == "5 Azar 1405"


def test_nowruz_and_year_boundary() -> None:
    # Nowruz 1405 = 21 March 2026; 23:59 UTC on 20 March is already 21 March in Tehran.
    assert jalali_ymd(datetime(2026, 3, 20, 20, 30, tzinfo=UTC)) == (1405, 1, 1)
    assert jalali_ymd(datetime(2026, 3, 20, 20, 29, tzinfo=UTC)) == (1404, 12, 29)
    assert format_datetime(datetime(2026, 3, 20, 20, 30, tzinfo=UTC), "en") == (
        "1 Farvardin 1405, 00:00"
    )


def test_other_timezone_and_offsets() -> None:
    dt = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert format_datetime(dt, "en", tz="UTC") == "5 Azar 1405, 11:00"
    aware_elsewhere = datetime(2026, 11, 26, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert format_datetime(aware_elsewhere, "en") == "5 Azar 1405, 14:30"


def test_dst_history() -> None:
    summer_2021 = to_local(datetime(2021, 7, 1, 12, 0, tzinfo=UTC))
    assert summer_2021.utcoffset() == timedelta(hours=4, minutes=30)
    assert format_datetime(datetime(2021, 7, 1, 12, 0, tzinfo=UTC), "en") == "10 Tir 1400, 16:30"
    for month in (1, 7):
        assert to_local(datetime(2026, month, 1, tzinfo=UTC)).utcoffset() == timedelta(
            hours=3, minutes=30
        )
    assert format_datetime(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "en") == "10 Tir 1405, 15:30"


def test_naive_rejected() -> None:
    with pytest.raises(ValueError):
        format_datetime(datetime(2026, 1, 1), "fa")
    with pytest.raises(ValueError):
        tehran_now(datetime(2026, 1, 1))


def test_tehran_now() -> None:
    fixed = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    now = tehran_now(fixed)
    assert now == fixed and now.utcoffset() == timedelta(hours=3, minutes=30)
    assert now.hour == 3 and now.minute == 30
    assert tehran_now().tzinfo is not None


def test_locales() -> None:
    assert is_persian("fa") and is_persian("fa-IR") and is_persian("FA_ir")
    assert not is_persian("en") and not is_persian("de") and not is_persian("")
    dt = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert format_datetime(dt, "fa-IR") == format_datetime(dt, "fa")
    assert format_datetime(dt, "de") == format_datetime(dt, "en")


@given(DATES)
def test_format_properties(dt: datetime) -> None:
    fa = format_datetime(dt, "fa")
    en = format_datetime(dt, "en")
    assert not set(fa) & set("0123456789")
    assert not set(en) & set("۰۱۲۳۴۵۶۷۸۹")
    y, m, d = jalali_ymd(dt)
    assert 1 <= m <= 12 and 1 <= d <= 31
    assert MONTHS_FA[m - 1] in fa and MONTHS_EN[m - 1] in en
    assert en.startswith(f"{d} {MONTHS_EN[m - 1]} {y}, ")


@given(DATES)
def test_jalali_dates_increase_monotonically(dt: datetime) -> None:
    # 25 h, not 24: on the night Iran's old daylight saving ended (until 2022) a local day
    # lasted 25 hours, so +24 h could land on the same local date.
    assert jalali_ymd(dt) <= jalali_ymd(dt + timedelta(hours=1))
    assert jalali_ymd(dt) < jalali_ymd(dt + timedelta(hours=25))


@pytest.mark.parametrize(
    ("td", "fa", "en"),
    [
        (timedelta(hours=3), "۳ ساعت", "3 hours"),
        (timedelta(days=2, hours=5, minutes=40), "۲ روز و ۵ ساعت", "2 days 5 hours"),
        (timedelta(minutes=45, seconds=59), "۴۵ دقیقه", "45 minutes"),
        (timedelta(hours=3, minutes=20), "۳ ساعت و ۲۰ دقیقه", "3 hours 20 minutes"),
        (timedelta(days=1), "۱ روز", "1 day"),
        (timedelta(hours=1, minutes=1), "۱ ساعت و ۱ دقیقه", "1 hour 1 minute"),
        (timedelta(seconds=30), "کمتر از یک دقیقه", "less than a minute"),
        (-timedelta(hours=3), "۳ ساعت", "3 hours"),
    ],
)
def test_format_duration(td: timedelta, fa: str, en: str) -> None:
    assert format_duration(td, "fa") == fa
    assert format_duration(td, "en") == en


@given(st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=3650)))
def test_format_duration_properties(td: timedelta) -> None:
    en = format_duration(td, "en")
    assert 1 <= len(en.split()) // 2 <= 2
    assert not set(format_duration(td, "fa")) & set("0123456789")
    assert format_duration(-td, "en") == en


def test_month_and_weekday_names_come_from_the_catalogues() -> None:
    assert month_names("fa") == ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
                                 "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")
    assert month_names("en")[0] == "Farvardin" and month_names("de") == month_names("en")
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)      # 7 Azar 1405, a Saturday
    assert format_weekday(saturday, "fa") == "شنبه"
    assert format_weekday(saturday, "en") == "Saturday"
    assert format_weekday(saturday + timedelta(days=6), "fa") == "جمعه"
    # 23:00 UTC on Friday is already Saturday in Tehran.
    assert format_weekday(datetime(2026, 11, 27, 23, 0, tzinfo=UTC), "en") == "Saturday"


def test_a_third_language_is_a_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    """Swap in a catalogue for a made-up locale: dates and durations follow, no code."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    import bot.ui.jalali as jalali
    from bot.i18n import Translator

    catalog = Catalog(locale="de")
    for msgid, text in {"Azar": "Asar", "{day} {month} {year}": "{day}. {month} {year}",
                        "{date}, {time}": "{date} um {time}",
                        "{larger} {smaller}": "{larger} und {smaller}"}.items():
        catalog.add(msgid, text)
    catalog.add(("{n} hour", "{n} hours"), ("{n} Stunde", "{n} Stunden"))
    catalog.add(("{n} minute", "{n} minutes"), ("{n} Minute", "{n} Minuten"))
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    german = Translator("de", gettext.GNUTranslations(buffer))
    monkeypatch.setattr(jalali, "_tr", lambda locale: german)
    dt = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert format_datetime(dt, "de") == "5. Asar 1405 um 14:30"
    assert format_duration(timedelta(hours=1, minutes=20), "de") == "1 Stunde und 20 Minuten"
