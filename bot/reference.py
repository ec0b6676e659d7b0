"""Reference data (provinces, places, houses, categories, routing) from CSV files in `data/`.

Files are validated whole before anything is written: a bad row is reported with its line
number and nothing is imported.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot import DATA_DIR


class ImportError_(Exception):
    """A data file is invalid; `problems` lists `line N: message` entries."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(problems))
        self.path = path
        self.problems = problems


class _Row(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


R = TypeVar("R", bound=_Row)


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
