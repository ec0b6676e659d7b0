"""Reference data (provinces, places, houses, categories, routing) from CSV files in `data/`.

Files are validated whole before anything is written: a bad row is reported with its line
number and nothing is imported.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Mapping
from datetime import date, tzinfo
from pathlib import Path
from typing import Literal, TypeVar

import holidays
import jdatetime
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot import DATA_DIR
from bot.domain.workcal import (
    CalendarError,
    HolidayBook,
    HolidayChange,
    HoursOverride,
    WorkCalendar,
    WorkWeek,
    parse_days,
    parse_intervals,
)


class ImportError_(Exception):
    """A data file is invalid; `problems` lists `line N: message` entries."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


class _Row(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


R = TypeVar("R", bound=_Row)
T = TypeVar("T")


class ProvinceRow(_Row):
    code: str = Field(min_length=1, max_length=40)
    name_fa: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class HouseRow(_Row):
    code: str = Field(min_length=1, max_length=40)
    name_fa: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    description_fa: str = ""
    description_en: str = ""


class CategoryRow(_Row):
    code: str = Field(min_length=1, max_length=40)
    name_fa: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    default_house: str = Field(min_length=1)
    sort: int = 0
    window_hours: int | None = Field(default=None, ge=1, le=24 * 30)
    window_clock: Literal["calendar", "office"] | None = None

    @field_validator("window_hours", "window_clock", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class PlaceRow(_Row):
    province_code: str = Field(min_length=1)
    city_code: str = Field(min_length=1, max_length=40)
    city_fa: str = Field(min_length=1)
    city_en: str = Field(min_length=1)
    neighbourhood_code: str = Field(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9_]+$")
    neighbourhood_fa: str = Field(min_length=1)
    neighbourhood_en: str = Field(min_length=1)
    lat: float | None = Field(default=None, ge=24.0, le=40.5)
    lon: float | None = Field(default=None, ge=44.0, le=63.5)
    sample: bool = False

    @field_validator("lat", "lon", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("sample", mode="before")
    @classmethod
    def _empty_is_false(cls, value: object) -> object:
        return False if isinstance(value, str) and not value.strip() else value

    @field_validator("neighbourhood_code")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class RoutingRow(_Row):
    neighbourhood_code: str = Field(min_length=1)
    category_code: str = Field(min_length=1)
    house_code: str = Field(min_length=1)


def read_rows(path: Path, model: type[R]) -> list[R]:
    """Parse and validate every row; raise ImportError_ listing every bad line."""
    text = decode_csv(path)
    rows: list[R] = []
    problems: list[str] = []
    with io.StringIO(text, newline="") as handle:
        header = text.partition("\n")[0]
        tabs = "\t" in header and "," not in header   # Excel's "Unicode text" is tab-separated
        reader = csv.DictReader(handle, delimiter="\t" if tabs else ",")
        required = [name for name, f in model.model_fields.items() if f.is_required()]
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportError_(path, [f"line 1: missing column(s) {', '.join(missing)}"])
        for row in reader:
            try:
                rows.append(model.model_validate(row))
            except ValidationError as exc:
                first = exc.errors()[0]
                column = ".".join(str(p) for p in first["loc"])
                problems.append(f"line {reader.line_num}: {column}: {first['msg']}")
    if problems:
        raise ImportError_(path, problems)
    return rows


def decode_csv(path: Path) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with its BOM (what Excel's "Unicode text" saves);
    anything else is refused in one line rather than read as mojibake."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportError_(path, [f"cannot open: {exc.strerror}"]) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise ImportError_(path, ["not a text file in UTF-8 or UTF-16; save the CSV as "
                                  "\"CSV UTF-8\""]) from None
    if "\x00" in text:
        raise ImportError_(path, ["not a CSV text file (it contains binary data)"])
    return text


def check_places(path: Path, rows: list[PlaceRow], province_codes: set[str]) -> None:
    """Cross-row checks: known provinces, unique neighbourhood codes, one name per city code."""
    problems = []
    seen: dict[str, int] = {}
    city_names: dict[str, tuple[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        if row.province_code not in province_codes:
            problems.append(f"line {line}: province_code: unknown province {row.province_code!r}")
        if row.neighbourhood_code in seen:
            problems.append(f"line {line}: neighbourhood_code: {row.neighbourhood_code} "
                            f"repeats line {seen[row.neighbourhood_code]}")
        seen.setdefault(row.neighbourhood_code, line)
        key = (row.province_code, row.city_fa)
        if city_names.setdefault(row.city_code, key) != key:
            problems.append(f"line {line}: city_code: {row.city_code} names two cities")
    if problems:
        raise ImportError_(path, problems)


def data_file(name: str) -> Path:
    return DATA_DIR / name


# --------------------------------------------------------------------------- working calendar

def jalali_date(text: str) -> date:
    """`1405-04-03` (Jalali, `/` also accepted) -> the Gregorian date."""
    parts = text.strip().replace("/", "-").split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{text.strip()!r} is not a Jalali date YYYY-MM-DD")
    year, month, day = (int(p) for p in parts)
    try:
        return jdatetime.date(year, month, day).togregorian()  # type: ignore[no-any-return]
    except ValueError as exc:
        raise ValueError(f"{text.strip()!r}: {exc}") from None


class HolidayExtraRow(_Row):
    """data/holidays-extra.csv: add a local closure, move an estimated holiday to the
    announced day, or cancel one (Jalali dates)."""

    action: Literal["add", "move", "cancel"]
    date: str = Field(min_length=1)
    to: str = ""
    name_fa: str = ""
    name_en: str = ""
    note: str = ""

    @field_validator("date")
    @classmethod
    def _jalali(cls, value: str) -> str:
        jalali_date(value)
        return value

    @field_validator("to")
    @classmethod
    def _jalali_or_empty(cls, value: str) -> str:
        if value.strip():
            jalali_date(value)
        return value

    def change(self) -> HolidayChange:
        if self.action == "move" and not self.to.strip():
            raise ValueError("move needs a 'to' date")
        if self.action == "add" and not self.name_fa:
            raise ValueError("add needs a name_fa")
        return HolidayChange(self.action, jalali_date(self.date),
                             jalali_date(self.to) if self.to.strip() else None,
                             self.name_fa, self.name_en)


class OfficeHoursRow(_Row):
    """data/office-hours.csv: dated hours (Jalali dates, both included); `hours` empty or
    `closed` closes the office on those days."""

    first: str = Field(min_length=1)
    last: str = Field(min_length=1)
    days: str = "all"
    hours: str = ""
    note: str = ""

    @field_validator("first", "last")
    @classmethod
    def _jalali(cls, value: str) -> str:
        jalali_date(value)
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        try:
            parse_days(value or "all")
        except CalendarError as exc:
            raise ValueError(str(exc)) from None
        return value or "all"

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        try:
            parse_intervals(value)
        except CalendarError as exc:
            raise ValueError(str(exc)) from None
        return value

    def override(self) -> HoursOverride:
        first, last = jalali_date(self.first), jalali_date(self.last)
        if last < first:
            raise ValueError("last is before first")
        return HoursOverride(first, last, frozenset(parse_days(self.days)),
                             parse_intervals(self.hours), self.note)


def _checked(path: Path, rows: list[R], convert: Callable[[R], T]) -> list[T]:
    out: list[T] = []
    problems = []
    for line, row in enumerate(rows, start=2):
        try:
            out.append(convert(row))
        except ValueError as exc:
            problems.append(f"line {line}: {exc}")
    if problems:
        raise ImportError_(path, problems)
    return out


def official_holidays(language: str) -> Mapping[date, str]:
    """Iran's official holidays from the `holidays` package (years expand lazily). Its lunar
    holidays beyond the confirmed years are estimates: data/holidays-extra.csv corrects them."""
    return holidays.country_holidays("IR", language=language)


def load_calendar(tz: tzinfo, week: WorkWeek, *, extra: Path | None = None,
                  hours: Path | None = None) -> WorkCalendar:
    """The working calendar: the work week, IR holidays corrected by holidays-extra.csv and
    the dated hours of office-hours.csv (missing files are no changes)."""
    extra = extra if extra is not None else data_file("holidays-extra.csv")
    hours = hours if hours is not None else data_file("office-hours.csv")
    changes = (_checked(extra, read_rows(extra, HolidayExtraRow), HolidayExtraRow.change)
               if extra.exists() else [])
    overrides = (_checked(hours, read_rows(hours, OfficeHoursRow), OfficeHoursRow.override)
                 if hours.exists() else [])
    book = HolidayBook(official_holidays("fa_IR"), official_holidays("en_US"), changes)
    return WorkCalendar(tz, week, book, overrides)


def calendar_problem(tz: tzinfo, week: WorkWeek) -> str | None:
    """One line naming the bad data file (holidays-extra.csv, office-hours.csv), or None."""
    try:
        load_calendar(tz, week)
    except (ImportError_, CalendarError) as exc:
        return f"working calendar: {exc}"
    return None
