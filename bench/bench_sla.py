"""SLA sweep cost per tick: it must grow with the tickets that are due, not with all tickets.

Run: python -m bench.bench_sla [--totals 10000,1000000] [--due 0,10,100]
                               [--backend sqlite|postgresql|both] [--pg-url URL]
Prints milliseconds per tick (best of TRIALS ticks, each with fresh due tickets); no asserts
(target: <= 100 ms with 1,000,000 tickets and 100 due).

Office mode (RESPONSE_CLOCK=office): on the largest database, after the calendar-mode ticks,
the open tickets are switched to office-time windows (24 office hours, IR holidays, the default
work week) and the same ticks run again; the ratio office/calendar is printed (same run, same
database, so the only difference is the working calendar's arithmetic).

--backend postgresql or both: each SQLite database is built as above, then copied into
PostgreSQL with copy-db (bench/pg.py: --pg-url, or a temporary server) and the same ticks run
there; `both` prints the two side by side at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.config import Settings
from bot.deps import Deps
from bot.domain.workcal import WorkCalendar
from bot.outbox import Outbox
from bot.services.reference import load_reference
from bot.services.sla import sweep
from storage.base import iso
from storage.db import Database

OFFICE_HOURS = 24

RESIDENT, STAFF = 1, 2
TRIALS = 4


async def build(path: Path, total: int, clock: FakeClock) -> Deps:
    db = Database(path)
    await db.open()
    await load_reference(db)
    await db.close()
    now = clock.now()
    raw = sqlite3.connect(path, isolation_level=None)
    n_id, c_id, h_id = raw.execute("""SELECT n.id, c.id, c.default_house_id
        FROM neighbourhoods n, categories c ORDER BY n.id, c.id LIMIT 1""").fetchone()
    raw.executemany("INSERT INTO people(id, first_name, created_at, updated_at) VALUES "
                    "(?, 'p', ?, ?)", [(RESIDENT, iso(now), iso(now)),
                                      (STAFF, iso(now), iso(now))])
    raw.execute("""INSERT INTO roles(person_id, role, house_id, scope_kind, scope_id, created_at)
                   VALUES (?, 'staff', ?, 'neighbourhood', ?, ?)""", (STAFF, h_id, n_id, iso(now)))
    old = now - timedelta(days=400)

    def rows() -> Iterator[tuple[object, ...]]:
        for i in range(total):
            # 99 % closed long ago; 1 % open with their next SLA moment still ahead.
            open_ = i % 100 == 0
            created = old + timedelta(seconds=i)
            due = (now + timedelta(hours=30)) if open_ else created + timedelta(hours=72)
            yield (f"B{i:09d}", RESIDENT, n_id, "need", c_id, h_id, "t",
                   "new" if open_ else "closed", iso(created), iso(created), iso(created),
                   iso(due), iso(now + timedelta(hours=6)) if open_ else None,
                   None if open_ else iso(created + timedelta(hours=5)))

    raw.execute("BEGIN")
    raw.executemany("""INSERT INTO tickets(code, resident_id, neighbourhood_id, kind,
        category_id, house_id, text, status, created_at, updated_at, window_started_at, due_at,
        sla_next_at, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)""", rows())
    raw.execute("COMMIT")
    raw.close()
    settings = Settings(_env_file=None, database_path=path)
    db = Database(path)
    await db.open()
    return Deps(settings=settings, db=db, clock=clock, outbox=Outbox(db, clock))


async def make_due(deps: Deps, count: int) -> None:
    """`count` open tickets reach their first reminder now, each in a new response window
    (as after a reopen), so repeated ticks do the same work. Calendar mode: due in 24 h (the
    T-24h reminder); office mode: due 8 office hours from now (the T-8 office hours reminder
    of a 24-office-hour window)."""
    now = deps.clock.now()
    office = deps.settings.response_clock == "office"
    due = deps.calendar.add(now, timedelta(hours=8)) if office else now + timedelta(hours=24)
    # The window started when it would have (72 h / 24 office hours before the deadline).
    start = deps.calendar.sub(due, timedelta(hours=OFFICE_HOURS)) if office \
        else due - timedelta(hours=72)
    async with deps.db.tx() as conn:
        await conn.execute("""UPDATE tickets SET sla_next_at = ?, due_at = ?,
            window_started_at = ?, window_no = window_no + 1 WHERE id IN (
            SELECT id FROM tickets WHERE status = 'new' AND sla_next_at > ? LIMIT ?)""",
            (iso(now), iso(due), iso(start), iso(now), count))


async def office_deps(deps: Deps) -> Deps:
    """The same database and clock in office mode (24 office hours, the default work week,
    IR holidays); the working calendar is built now, not inside a tick."""
    settings = Settings(_env_file=None, database_path=deps.settings.database_path,
                        response_clock="office", response_window_office_hours=OFFICE_HOURS)
    office = Deps(settings=settings, db=deps.db, clock=deps.clock, outbox=deps.outbox)
    assert isinstance(office.calendar, WorkCalendar)
    return office


async def set_clock(deps: Deps) -> None:
    """Open tickets on this deployment's clock (calendar: 72 h wall time; office: 24 office
    hours), as if they had been filed under it."""
    office = deps.settings.response_clock == "office"
    async with deps.db.tx() as conn:
        await conn.execute("UPDATE tickets SET sla_clock = ?, window_hours = ? "
                           "WHERE status = 'new'",
                           ("office" if office else "calendar", OFFICE_HOURS if office else None))


async def tick(deps: Deps, due: int) -> tuple[float, int]:
    await set_clock(deps)
    await make_due(deps, due)
    started = time.perf_counter()
    handled = await sweep(deps)
    return time.perf_counter() - started, handled


async def measure(total: int, dues: list[int], *, office: bool, pg_url: str | None = None
                  ) -> tuple[dict[int, float], dict[int, float] | None]:
    """Best tick per number due; with `office`, calendar and office ticks alternate on the
    same database (so machine noise hits both alike). With `pg_url` the SQLite database is
    built, copied there, and the ticks run on PostgreSQL."""
    clock = FakeClock()    # Wednesday 11:30 Tehran: office hours
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        path = Path(folder) / "bench.sqlite3"
        deps = await build(path, total, clock)
        print(f"  built {total:,} tickets in {time.perf_counter() - started:.1f} s")
        if pg_url is not None:
            from bench.pg import fill_from_sqlite
            from storage.backends import database_for

            await deps.db.close()
            await fill_from_sqlite(path, pg_url)
            db = database_for(pg_url)
            await db.open()
            deps = Deps(settings=deps.settings, db=db, clock=clock, outbox=Outbox(db, clock))
        modes = {"calendar": deps}
        if office:
            modes["office"] = await office_deps(deps)
        results: dict[str, dict[int, float]] = {mode: {} for mode in modes}
        for due in dues:
            best = {mode: float("inf") for mode in modes}
            handled = dict.fromkeys(modes, 0)
            for trial in range(TRIALS):   # the best of a few ticks: single ticks are noisy
                order = list(modes.items())   # alternate who goes first
                for mode, mode_deps in (order if trial % 2 == 0 else order[::-1]):
                    took, handled[mode] = await tick(mode_deps, due)
                    best[mode] = min(best[mode], took)
            for _ in range(4):   # idle ticks right after (nothing due) for the base cost
                started = time.perf_counter()
                await sweep(deps)
                idle = time.perf_counter() - started
            for mode in modes:
                results[mode][due] = best[mode] * 1000
                print(f"  {mode:<8} total={total:>9,}  due={due:>4}  "
                      f"handled={handled[mode]:>4}  tick={best[mode] * 1000:7.1f} ms  "
                      f"idle tick={idle * 1000:5.2f} ms")
        await deps.db.close()
    return results["calendar"], results.get("office")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--totals", default="10000,1000000")
    parser.add_argument("--due", default="0,10,100")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--pg-url", default=None,
                        help="PostgreSQL database to fill and use (its rows are replaced); "
                             "default: a temporary server, deleted at the end")
    args = parser.parse_args()
    totals = [int(x) for x in args.totals.split(",")]
    dues = [int(x) for x in args.due.split(",")]
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    big: dict[str, dict[int, float]] = {}
    for backend in backends:
        if backend == "sqlite":
            big["SQLite"] = await run_backend(totals, dues, None)
            continue
        from bench.pg import postgres_url

        async with postgres_url(args.pg_url) as url:
            big["PostgreSQL"] = await run_backend(totals, dues, url)
    if len(big) == 2:
        print(f"\nSQLite vs PostgreSQL, calendar mode, total={totals[-1]:,}, same run "
              "(target: tick <= 100 ms):")
        for due in dues:
            print(f"  due={due:>4}: SQLite {big['SQLite'][due]:7.1f} ms   PostgreSQL "
                  f"{big['PostgreSQL'][due]:7.1f} ms")


async def run_backend(totals: list[int], dues: list[int], pg_url: str | None
                      ) -> dict[int, float]:
    """Every total on one backend; returns the largest total's ticks (calendar mode)."""
    name = "SQLite" if pg_url is None else "PostgreSQL"
    table = {}
    office: dict[int, float] | None = None
    for total in totals:
        print(f"{name}: SLA sweep with {total:,} tickets:")
        table[total], found = await measure(total, dues, office=total == totals[-1],
                                            pg_url=pg_url)
        office = found or office
    small, big = totals[0], totals[-1]
    print(f"\n{name}: ratio tick(big)/tick(small) for the same number due (≈1 means it does "
          "not grow with all tickets):")
    for due in dues:
        print(f"  due={due:>4}: {table[big][due]:.1f} ms / {table[small][due]:.1f} ms = "
              f"{table[big][due] / max(table[small][due], 1e-3):.2f}")
    print(f"per due ticket (total={big:,}): "
          f"{(table[big][dues[-1]] - table[big][dues[0]]) / max(dues[-1] - dues[0], 1):.2f} ms")
    if office is not None:
        print(f"\n{name}: office mode (RESPONSE_CLOCK=office) vs calendar mode, total={big:,}, "
              "same run (target: office tick <= 100 ms):")
        for due in dues:
            print(f"  due={due:>4}: office {office[due]:.1f} ms / calendar {table[big][due]:.1f} "
                  f"ms = {office[due] / max(table[big][due], 1e-3):.2f}")
    print()
    return table[big]


if __name__ == "__main__":
    asyncio.run(main())
