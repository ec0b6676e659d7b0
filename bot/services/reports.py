"""Use cases of the reports: `/stats` figures and the weekly series, and the `/export` file.

Both read through the database's report connection (read-only, its own thread: WAL lets it
read while the bot writes, so nobody waits behind a report). `/stats` asks SQLite for the
aggregates only. `/export` runs in a process of its own (`bot.report_worker`) that streams
rows into files, so neither the bot's memory nor its event loop depends on the period.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from bot.deps import Deps
from bot.domain.periods import Period, PeriodError, PeriodProblem, parse_period
from bot.domain.reports import AreaStats, Figures, HouseStats, Name, StatsReport, WeekSeries
from bot.i18n import N_
from bot.services.errors import Refused
from bot.services.roles import Scope
from storage import reports as repo
from storage.staff_queries import Area, neighbourhood_ids

log = logging.getLogger(__name__)

CHART_WEEKS = 12
EXPORT_CHUNK = 2_000          # rows per read in the worker (and per progress line)
FORMATS = {"csv": "csv", "xlsx": "xlsx", "excel": "xlsx", "اکسل": "xlsx"}

# --------------------------------------------------------------------------- periods

PERIOD_HELP = N_(
    "I could not read the period «{text}».\n"
    "Write a date or period after the command, for example:\n"
    "{command} آذر — the latest Azar\n"
    "{command} ۱۴۰۵/۰۹ — a Jalali month\n"
    "{command} ۱۴۰۵/۰۹/۰۱ ۱۴۰۵/۰۹/۳۰ — a range of days (Gregorian dates work too: "
    "2026-11-22 2026-12-21)\n"
    "{command} هفته — the last 7 days; {command} ماه — the last 30 days\n"
    "Without a period: the last 30 days.")
PERIOD_BAD_DATE = N_(
    "There is no such date in «{text}». Write a date like {command} ۱۴۰۵/۰۹/۰۵ or "
    "{command} 2026-11-26; a month like {command} ۱۴۰۵/۰۹ or {command} آذر.")
PERIOD_REVERSED = N_(
    "The period «{text}» ends before it starts. Write the earlier date first, e.g. "
    "{command} ۱۴۰۵/۰۹/۰۱ ۱۴۰۵/۰۹/۳۰.")


def period_of(deps: Deps, text: str, command: str) -> Period:
    """The period written after `/stats` or `/export`, or a Refused with examples."""
    try:
        return parse_period(text, deps.clock.now(), deps.settings.tz)
    except PeriodError as exc:
        message = {PeriodProblem.BAD_DATE: PERIOD_BAD_DATE,
                   PeriodProblem.REVERSED: PERIOD_REVERSED}.get(exc.problem, PERIOD_HELP)
        raise Refused(message, text=text.strip(), command=command) from exc


# --------------------------------------------------------------------------- /stats

def week_bounds(now: datetime, tz: tzinfo, weeks: int = CHART_WEEKS) -> list[datetime]:
    """weeks + 1 local Saturday midnights: the last `weeks` Jalali weeks, this one included."""
    today = now.astimezone(tz).date()
    saturday = today - timedelta(days=(today.weekday() - 5) % 7)
    first = saturday - timedelta(weeks=weeks - 1)
    days = [first + timedelta(weeks=i) for i in range(weeks + 1)]
    return [datetime(d.year, d.month, d.day, tzinfo=tz) for d in days]


async def stats(deps: Deps, scope: Scope, text: str = "", *, weekly: bool = True
                ) -> StatsReport:
    """Figures per house and neighbourhood in the caller's scope for the period in `text`."""
    period = period_of(deps, text, "/stats")
    now = deps.clock.now()
    areas = scope.areas
    async with deps.db.report() as conn:
        per_area = await repo.area_figures(conn, areas, period.start, period.end, now)
        if any(f.office_answered for f in per_area.values()):
            medians = await _medians_on_own_clock(conn, deps, areas, period)
        else:
            medians = await repo.median_first_response(conn, areas, period.start, period.end)
        series = await _weekly(conn, deps, areas, now) if weekly else None
        house_names = await repo.names(conn, "houses", {h for h, _ in per_area})
        area_names = await repo.names(conn, "neighbourhoods", {n for _, n in per_area})
    houses: dict[int, HouseStats] = {}
    total = Figures(median_first_response_s=medians.get((None, None)))
    for (house_id, n_id), figures in sorted(
            per_area.items(), key=lambda kv: (_sort_name(house_names, kv[0][0]),
                                              _sort_name(area_names, kv[0][1]))):
        figures.median_first_response_s = medians.get((house_id, n_id))
        house = houses.get(house_id)
        if house is None:
            house = houses[house_id] = HouseStats(
                _name(house_names, house_id), Figures(
                    median_first_response_s=medians.get((house_id, None))))
        house.areas.append(AreaStats(house.house, _name(area_names, n_id), figures))
        house.figures.add(figures)
        total.add(figures)
    return StatsReport(period, list(houses.values()), total, series)


async def _medians_on_own_clock(conn: Any, deps: Deps, areas: list[Area], period: Period
                                ) -> dict[tuple[int | None, int | None], float]:
    """Medians when some windows run on office time: each answer measured on its own clock
    (the working calendar), one float per answered request, at the three levels."""
    values: dict[tuple[int | None, int | None], list[float]] = {}
    async for chunk in repo.first_responses(conn, areas, period.start, period.end):
        for house, n, clock, start, first in chunk:
            seconds = deps.span(clock).between(datetime.fromisoformat(start),
                                               datetime.fromisoformat(first)).total_seconds()
            for key in ((house, n), (house, None), (None, None)):
                values.setdefault(key, []).append(seconds)
    return {key: statistics.median(found) for key, found in values.items()}


def _name(names: dict[int, Name], key: int) -> Name:
    return names.get(key) or Name(str(key), "?", "?")


def _sort_name(names: dict[int, Name], key: int) -> str:
    return _name(names, key).code


async def _weekly(conn: Any, deps: Deps, areas: list[Area], now: datetime) -> WeekSeries:
    bounds = week_bounds(now, deps.settings.tz)
    rows = await repo.weekly(conn, areas, bounds, now)
    names = await repo.names(conn, "houses", {r.house_id for r in rows})
    weeks = len(bounds) - 1
    counts: dict[str, list[int]] = {}
    judged, in_time = [0] * weeks, [0] * weeks
    for r in rows:
        code = _name(names, r.house_id).code
        counts.setdefault(code, [0] * weeks)[r.week] += r.received
        judged[r.week] += r.judged
        in_time[r.week] += r.in_time
    return WeekSeries(
        weeks=[b.date() for b in bounds[:-1]], counts=dict(sorted(counts.items())),
        houses={_name(names, r.house_id).code: _name(names, r.house_id) for r in rows},
        in_time=[i / j if j else None for i, j in zip(in_time, judged, strict=True)])


async def weekly_series(deps: Deps, areas: list[Area]) -> WeekSeries:
    """The chart's data for any scope (the weekly picture with the digest)."""
    async with deps.db.report() as conn:
        return await _weekly(conn, deps, areas, deps.clock.now())


# --------------------------------------------------------------------------- /export

@dataclass
class Export:
    """Files of one export in a temporary folder; `cleanup()` removes them after sending."""

    period: Period
    format: str
    rows: int
    files: list[Path] = field(default_factory=list)
    folder: Path | None = None

    def cleanup(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    async def discard(self) -> None:
        """`cleanup` off the event loop (freeing hundreds of MB of parts takes a while)."""
        await asyncio.to_thread(self.cleanup)


@dataclass(frozen=True)
class ExportRequest:
    period: Period
    format: str


Progress = Callable[[int, int], Awaitable[None]]

# Who has an export running, per bot (a second one by the same person is refused politely).
_running: set[tuple[int, int]] = set()


def export_request(deps: Deps, text: str) -> ExportRequest:
    """`/export [period] [xlsx]`: the format word may stand anywhere."""
    words = text.split()
    formats = [FORMATS[w.lower()] for w in words if w.lower() in FORMATS]
    rest = " ".join(w for w in words if w.lower() not in FORMATS)
    return ExportRequest(period_of(deps, rest, "/export"), formats[-1] if formats else "csv")


def _areas_json(areas: list[Area]) -> list[list[Any]]:
    return [[a.house_id, None if a.neighbourhood_ids is None else list(a.neighbourhood_ids)]
            for a in areas]


async def export(deps: Deps, scope: Scope, text: str, *, locale: str, private: bool,
                 progress: Progress | None = None) -> Export:
    """Write the period's requests in the caller's scope to CSV/XLSX files (in parts when
    large). Phones only where the rule of today allows: staff whose house and area cover
    the request; mayors and supervisors get none."""
    if not private:
        raise Refused(N_("Exports hold residents' phone numbers, so I send them only in a "
                         "private chat. Please send /export to me privately."))
    request = export_request(deps, text)
    key = (id(deps), scope.person_id)
    if key in _running:
        raise Refused(N_("Your previous export is still being prepared; it will arrive here "
                         "in a moment. Please wait for it before asking for another."))
    _running.add(key)
    try:
        return await _run_export(deps, scope, request, locale, progress)
    finally:
        _running.discard(key)


def _phone_areas(scope: Scope) -> list[Area]:
    """Phones go to staff for their own house and area only: not to supervisors (a city or
    province), mayors or admins, who have no resident to call back."""
    return scope.staff_areas if scope.role == "staff" else []


async def _run_export(deps: Deps, scope: Scope, request: ExportRequest, locale: str,
                      progress: Progress | None) -> Export:
    period = request.period
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="mahalleyar-export-"))
    first, last = period.jalali_bounds()
    job = {"db": deps.db.worker_target(), "areas": _areas_json(scope.areas),
           "phone_areas": _areas_json(_phone_areas(scope)),
           "start": period.start.isoformat(), "end": period.end.isoformat(),
           "now": deps.clock.now().isoformat(), "tz": deps.settings.timezone,
           "locale": locale, "format": request.format, "folder": str(folder),
           "jalali_first": list(first), "jalali_last": list(last), "chunk": EXPORT_CHUNK}
    result = Export(period, request.format, 0, folder=folder)
    try:
        data = await _worker(job, progress)
    except BaseException:
        await result.discard()
        raise
    result.rows = int(data["rows"])
    result.files = [Path(p) for p in data["files"]]
    return result


# The folder holding this very `bot` package, first on the worker's path: it runs the same
# code as the bot (a checkout, a worktree or an installed wheel alike).
_CODE_ROOT = str(Path(__file__).resolve().parents[2])


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_CODE_ROOT, env.get("PYTHONPATH")) if p)
    return env


async def _worker(job: dict[str, Any], progress: Progress | None) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.report_worker", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_worker_env())
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(json.dumps(job).encode())
    await proc.stdin.drain()
    proc.stdin.close()
    errors = asyncio.ensure_future(proc.stderr.read())
    result: dict[str, Any] | None = None
    try:
        async for line in proc.stdout:
            message = json.loads(line)
            if "result" in message:
                result = message["result"]
            elif progress is not None:
                await progress(int(message["done"]), int(message["total"]))
        await proc.wait()
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    finally:
        stderr = await errors
    if proc.returncode != 0 or result is None:
        log.error("export worker failed (%s): %s", proc.returncode,
                  stderr.decode(errors="replace")[-2000:])
        raise RuntimeError("export worker failed")
    return result


# --------------------------------------------------------------------------- weekly picture

@dataclass(frozen=True)
class WeeklyPicture:
    """One mayor's or supervisor's chart of this Jalali week, still to be drawn and queued."""

    chat_id: int
    locale: str
    key: str                       # outbox idempotency key: once per person and week
    series: WeekSeries


def week_key(deps: Deps) -> str:
    """The Saturday that starts this Jalali week (local), as an ISO date."""
    return week_bounds(deps.clock.now(), deps.settings.tz, 1)[0].date().isoformat()


async def weekly_pictures(deps: Deps) -> list[WeeklyPicture]:
    """Mayors and supervisors who have not had this week's chart yet and whose scope had
    requests in the last 12 weeks (the first digest of each Jalali week sends them)."""
    week = week_key(deps)
    pending = []
    async with deps.db.read() as conn:
        for recipient in await repo.weekly_recipients(conn):
            key = f"weekly-chart:{week}:{recipient.person_id}"
            if await repo.queued(conn, key):
                continue
            areas = [Area(house, await neighbourhood_ids(conn, kind, scope_id))
                     for house, kind, scope_id in recipient.areas]
            pending.append((recipient, key, areas))
    pictures = []
    for recipient, key, areas in pending:
        series = await weekly_series(deps, areas)
        if any(any(v) for v in series.counts.values()):
            pictures.append(WeeklyPicture(recipient.person_id,
                                          recipient.locale or deps.settings.default_locale,
                                          key, series))
    return pictures


async def queue_weekly_picture(deps: Deps, picture: WeeklyPicture, path: Path,
                               caption: str) -> bool:
    """The drawn chart goes out through the outbox (after the digest queued before it)."""
    async with deps.db.tx() as conn:
        return await deps.outbox.enqueue_photo(conn, chat_id=picture.chat_id, key=picture.key,
                                               kind="weekly_chart", path=str(path),
                                               caption=caption)
