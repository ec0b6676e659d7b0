"""The export as files: columns, plain-word cells, CSV (UTF-8 with BOM) and XLSX parts.

Runs in the report worker process (`bot.report_worker`), never in the bot's event loop. Rows
go to a file as they come; a file is closed and the next numbered part begun before it would
pass Telegram's 50 MB, and an XLSX sheet holds at most 1,048,576 rows (header included).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from bot.domain.tickets import CloseReason, Kind, Status
from bot.i18n import N_, Translator, localized
from bot.ui.jalali import format_datetime
from bot.ui.labels import CLOSE_REASON


class Row(Protocol):
    """A database row by column name (sqlite3.Row, a dict)."""

    def __getitem__(self, key: str) -> Any: ...


TELEGRAM_FILE_LIMIT = 50 * 1000 * 1000
PART_LIMIT = 48 * 1000 * 1000               # margin under Telegram's limit
XLSX_MAX_ROWS = 1_048_576                   # one sheet, header row included
# An XLSX file is zipped XML: its size is known only once it is closed. Cell text compresses
# well (Persian text and repeated words to a third or less, the XML around it far more), so a
# part is closed after this much cell text, which keeps it well under PART_LIMIT.
XLSX_TEXT_LIMIT = 100 * 1000 * 1000

# (header msgid, column width in characters for the XLSX sheet)
COLUMNS: tuple[tuple[str, int], ...] = (
    (N_("code"), 12), (N_("type"), 10), (N_("category"), 18), (N_("house"), 14),
    (N_("neighbourhood code"), 10), (N_("neighbourhood"), 16), (N_("status"), 16),
    (N_("close reason"), 18), (N_("urgency"), 8),
    (N_("filed"), 26), (N_("filed (Jalali)"), 24),
    (N_("first answer"), 26), (N_("first answer (Jalali)"), 24),
    (N_("closed"), 26), (N_("closed (Jalali)"), 24),
    (N_("deadline"), 26), (N_("deadline (Jalali)"), 24),
    (N_("answered in time"), 10), (N_("rating"), 6), (N_("rating comment"), 30),
    (N_("latitude"), 10), (N_("longitude"), 10), (N_("field visit"), 16), (N_("phone"), 14),
    (N_("text"), 60),
)

# Plain words (no emoji: a spreadsheet is sorted and filtered by these).
STATUS_WORD: dict[Status, str] = {
    Status.NEW: N_("received"),
    Status.IN_PROGRESS: N_("in progress"),
    Status.AWAITING_RESIDENT: N_("waiting for the resident"),
    Status.ANSWERED: N_("answered, not closed"),
    Status.REOPENED: N_("reopened (status)"),
    Status.CLOSED: N_("closed (status)"),
}
KIND_WORD: dict[Kind, str] = {
    Kind.NEED: N_("need"),
    Kind.COMPLAINT: N_("complaint"),
    Kind.SUGGESTION: N_("suggestion"),
}
IN_TIME_WORD = {"yes": N_("yes"), "no": N_("no"), "pending": N_("pending")}
URGENT_WORD = N_("urgent")


def headers(tr: Translator) -> list[str]:
    return [tr._(name) for name, _ in COLUMNS]


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def in_time(first: datetime | None, due: datetime | None, now: datetime) -> str:
    """yes / no / pending for one request, by its own deadline."""
    if first is not None:
        return "yes" if due is None or first <= due else "no"
    return "no" if due is not None and due < now else "pending"


@dataclass(frozen=True)
class RowFormatter:
    """One database row -> the export's cells, in the reader's language."""

    tr: Translator
    tz: str
    now: datetime
    may_see_phone: Callable[[int, int], bool]      # (house_id, neighbourhood_id) -> bool

    def _pair(self, value: str | None) -> list[str]:
        moment = _when(value)
        if moment is None:
            return ["", ""]
        local = moment.astimezone(_zone(self.tz))
        return [local.isoformat(timespec="seconds"),
                format_datetime(moment, self.tr.locale, self.tz)]

    def cells(self, r: Row) -> list[str]:
        tr = self.tr
        status = Status(r["status"])
        reason = r["close_reason"]
        first, due = _when(r["first_response_at"]), _when(r["due_at"])
        phone = r["phone"] if r["phone"] and self.may_see_phone(
            int(r["house_id"]), int(r["neighbourhood_id"])) else ""
        return [
            r["code"],
            tr._(KIND_WORD[Kind(r["kind"])]),
            localized(tr, r["c_fa"], r["c_en"]),
            localized(tr, r["h_fa"], r["h_en"]),
            r["n_code"],
            localized(tr, r["n_fa"], r["n_en"]),
            tr._(STATUS_WORD[status]),
            tr._(CLOSE_REASON[CloseReason(reason)]) if reason in set(CloseReason) else "",
            tr._(URGENT_WORD) if r["urgency"] else "",
            *self._pair(r["created_at"]),
            *self._pair(r["first_response_at"]),
            *self._pair(r["closed_at"]),
            *self._pair(r["due_at"]),
            tr._(IN_TIME_WORD[in_time(first, due, self.now)]),
            "" if r["rating"] is None else str(r["rating"]),
            r["rating_comment"] or "",
            "" if r["lat"] is None else f"{float(r['lat']):.6f}",
            "" if r["lon"] is None else f"{float(r['lon']):.6f}",
            r["visit"] or "",
            phone,
            r["text"],
        ]


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


class PartWriter(Protocol):
    def write(self, cells: list[str]) -> None: ...

    def close(self) -> list[Path]: ...


class _Parts:
    """Numbered files `stem-partN.ext`; a single part is renamed to `stem.ext` at the end."""

    def __init__(self, folder: Path, stem: str, ext: str) -> None:
        self.folder, self.stem, self.ext = folder, stem, ext
        self.paths: list[Path] = []

    def next_path(self) -> Path:
        path = self.folder / f"{self.stem}-part{len(self.paths) + 1}.{self.ext}"
        self.paths.append(path)
        return path

    def finish(self) -> list[Path]:
        if len(self.paths) == 1:
            single = self.folder / f"{self.stem}.{self.ext}"
            self.paths[0].rename(single)
            self.paths = [single]
        return self.paths


class CsvWriter:
    """UTF-8 with a BOM (spreadsheet programs then read Persian right); header in every part."""

    def __init__(self, folder: Path, stem: str, header: list[str],
                 limit: int = PART_LIMIT) -> None:
        self._parts = _Parts(folder, stem, "csv")
        self._header = header
        self._limit = limit
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer)
        self._file: BinaryIO | None = None
        self._size = 0
        self._rows = 0

    def _line(self, cells: list[str]) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._csv.writerow(cells)
        return self._buffer.getvalue().encode("utf-8")

    def _open(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._parts.next_path().open("wb")
        head = "\ufeff".encode() + self._line(self._header)
        self._file.write(head)
        self._size, self._rows = len(head), 0

    def write(self, cells: list[str]) -> None:
        line = self._line(cells)
        if self._file is None or (self._rows and self._size + len(line) > self._limit):
            self._open()
        assert self._file is not None
        self._file.write(line)
        self._size += len(line)
        self._rows += 1

    def close(self) -> list[Path]:
        if self._file is None:
            self._open()
        assert self._file is not None
        self._file.close()
        return self._parts.finish()


class XlsxWriter:
    """openpyxl's write-only mode (constant memory): right-to-left sheet for Persian, frozen
    header row, column widths; a new part after XLSX_MAX_ROWS rows or XLSX_TEXT_LIMIT."""

    def __init__(self, folder: Path, stem: str, header: list[str], *, rtl: bool,
                 max_rows: int = XLSX_MAX_ROWS, text_limit: int = XLSX_TEXT_LIMIT) -> None:
        self._parts = _Parts(folder, stem, "xlsx")
        self._header, self._rtl = header, rtl
        self._max_rows, self._text_limit = max_rows, text_limit
        self._book: Any = None
        self._sheet: Any = None
        self._path: Path | None = None
        self._rows = 0
        self._text = 0

    def _open(self) -> None:
        from openpyxl import Workbook
        from openpyxl.utils import get_column_letter

        self._save()
        self._path = self._parts.next_path()
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet()
        self._sheet.sheet_view.rightToLeft = self._rtl
        self._sheet.freeze_panes = "A2"
        for index, (_, width) in enumerate(COLUMNS, start=1):
            self._sheet.column_dimensions[get_column_letter(index)].width = width
        self._sheet.append(self._header)
        self._rows, self._text = 1, 0

    def _save(self) -> None:
        if self._book is not None and self._path is not None:
            self._book.save(self._path)
            self._book = self._sheet = None

    def write(self, cells: list[str]) -> None:
        size = sum(len(c) for c in cells) * 2
        if self._book is None or self._rows >= self._max_rows or (
                self._rows > 1 and self._text + size > self._text_limit):
            self._open()
        self._sheet.append([_cell(c) for c in cells])
        self._rows += 1
        self._text += size

    def close(self) -> list[Path]:
        if self._book is None:
            self._open()
        self._save()
        return self._parts.finish()


_ILLEGAL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])


def _cell(value: str) -> str:
    """XML cannot hold control characters; a resident's text might."""
    return value.translate(_ILLEGAL) if value else value


def writer(fmt: str, folder: Path, stem: str, header: list[str], *, rtl: bool) -> PartWriter:
    if fmt == "xlsx":
        return XlsxWriter(folder, stem, header, rtl=rtl)
    return CsvWriter(folder, stem, header)


def file_stem(first: tuple[int, int, int], last: tuple[int, int, int]) -> str:
    """`requests-1405-09-01_1405-09-30`: the Jalali range, ASCII digits (safe everywhere)."""
    a = "-".join(f"{v:02d}" for v in first)
    b = "-".join(f"{v:02d}" for v in last)
    return f"requests-{a}_{b}"
