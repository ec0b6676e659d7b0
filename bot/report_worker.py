"""The export, in a process of its own: `python -m bot.report_worker` (started by
`bot.services.reports.export`).

Reads one job (JSON) on stdin, opens the database read-only (WAL: the bot keeps writing),
streams the period's rows in chunks into CSV or XLSX parts in the job's folder, and prints
one JSON line per chunk (`{"done": n, "total": m}`) and a last one with the files. Its memory
stays flat whatever the period, and it never holds the bot's event loop or its GIL.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.i18n import translator
from bot.ui.charts import lower_priority
from bot.ui.export_files import RowFormatter, file_stem, headers, writer
from storage.reports import connect_read_only, export_chunks, export_count
from storage.staff_queries import Area


def _areas(data: list[list[Any]]) -> list[Area]:
    return [Area(house, None if ids is None else tuple(ids)) for house, ids in data]


def _covers(areas: list[Area], house_id: int, n_id: int) -> bool:
    return any((a.house_id is None or a.house_id == house_id)
               and (a.neighbourhood_ids is None or n_id in a.neighbourhood_ids) for a in areas)


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def run(job: dict[str, Any]) -> dict[str, Any]:
    tr = translator(job["locale"])
    areas, phone_areas = _areas(job["areas"]), _areas(job["phone_areas"])
    start, end = datetime.fromisoformat(job["start"]), datetime.fromisoformat(job["end"])
    formatter = RowFormatter(tr, job["tz"], datetime.fromisoformat(job["now"]),
                             lambda h, n: _covers(phone_areas, h, n))
    first, last = tuple(job["jalali_first"]), tuple(job["jalali_last"])
    out = writer(job["format"], Path(job["folder"]), file_stem(first, last), headers(tr),
                 rtl=tr.rtl)
    chunk = int(job.get("chunk", 2000))
    done = expected = 0

    def total(count: int) -> None:
        nonlocal expected
        expected = count
        _emit({"done": 0, "total": count})

    def write(rows: list[Any]) -> None:
        nonlocal done
        for row in rows:
            out.write(formatter.cells(row))
        done += len(rows)
        _emit({"done": done, "total": expected})

    if str(job["db"]).startswith(("postgresql://", "postgres://")):
        from storage.pg_export import export_postgres

        asyncio.run(export_postgres(job["db"], areas, start, end, chunk, total, write))
    else:
        conn = connect_read_only(job["db"])
        try:
            total(export_count(conn, areas, start, end))
            for rows in export_chunks(conn, areas, start, end, chunk):
                write(rows)
        finally:
            conn.close()
    files = out.close()
    return {"files": [str(p) for p in files], "rows": done}


def main() -> None:
    lower_priority()
    job = json.loads(sys.stdin.read())
    _emit({"result": run(job)})


if __name__ == "__main__":
    main()
