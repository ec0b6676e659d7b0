"""Benchmark: /queue and /search on 1,000,000 tickets (target p95 ≤ 50 ms each).

    python -m bench.bench_queue [--tickets N] [--db PATH] [--runs N]
                                [--backend sqlite|postgresql|both] [--pg-url URL]

Run from the repository root with the project's venv (as the README's Benchmarks section
does). Builds the database, then times the same service calls the handlers make, for a staff
member of one neighbourhood and a supervisor of a whole city. Prints numbers; asserts nothing.

Without --db the database (about 600 MB for 1,000,000 tickets) lives in a temporary folder
that is deleted at the end, also after Ctrl+C; with --db PATH it is kept there and reused by
the next run when it already holds N tickets.

--backend postgresql or both: the SQLite database is built as above and copied into
PostgreSQL with copy-db (bench/pg.py: --pg-url, or a temporary server from the Debian
package's binaries); the same calls are timed on each, and `both` prints them side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import FakeClock
from bot.config import Settings
from bot.deps import Deps
from bot.domain.text import TRACKING_ALPHABET
from bot.outbox import Outbox
from bot.services import staff as svc
from bot.services.reference import load_reference
from bot.services.roles import Scope
from storage import places
from storage import tickets as tickets_repo
from storage.db import Database
from storage.staff_queries import Area, bulk_insert_tickets, neighbourhood_ids

WORDS = ("سقف", "خانه", "چکه", "می‌کند", "آب", "برق", "قطع", "است", "نیاز", "به", "ویلچر",
         "وام", "اشتغال", "کوچه", "آسفالت", "مدرسه", "فرزندم", "بیمار", "دارو", "گران",
         "بسته", "غذایی", "پوشاک", "زمستان", "سرما", "کار", "ندارم", "اجاره", "خانه", "کمک")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


async def build(db: Database, count: int) -> None:
    rng = random.Random(5)
    async with db.tx() as conn:
        existing = await conn.execute_fetchall("SELECT count(*) FROM tickets")
        have = int(next(iter(existing))[0])
        if have >= count:
            return
        n_ids = [int(r[0]) for r in await conn.execute_fetchall("SELECT id FROM neighbourhoods")]
        cats = [(int(r[0]), int(r[1])) for r in await conn.execute_fetchall(
            "SELECT id, default_house_id FROM categories")]
        residents = 50_000
        await conn.executemany(
            "INSERT OR IGNORE INTO people(id, first_name, created_at, updated_at) "
            "VALUES (?, '', ?, ?)", [(i, NOW.isoformat(), NOW.isoformat())
                                     for i in range(1, residents + 1)])
    statuses = ["closed"] * 17 + ["new", "in_progress", "answered"]
    batch: list[tuple[object, ...]] = []
    started = time.perf_counter()
    for i in range(have, count):
        created = NOW - timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
        cat, house = rng.choice(cats)
        status = rng.choice(statuses)
        code = "".join(rng.choice(TRACKING_ALPHABET) for _ in range(8)) + str(i)
        phone = f"0912{rng.randrange(10**7):07d}" if rng.random() < 0.5 else None
        answered = created + timedelta(hours=rng.randrange(1, 90)) if status != "new" else None
        batch.append((code, rng.randrange(1, residents + 1), rng.choice(n_ids), "need", cat,
                      house, " ".join(rng.choice(WORDS) for _ in range(7)), phone, status,
                      None, created.isoformat(), created.isoformat(), created.isoformat(),
                      (created + timedelta(hours=72)).isoformat(),
                      answered.isoformat() if answered else None))
        if len(batch) == 20_000:
            async with db.tx() as conn:
                await bulk_insert_tickets(conn, batch)
            batch = []
            print(f"\r  {i + 1:,} tickets ({time.perf_counter() - started:.0f} s)", end="",
                  flush=True)
    if batch:
        async with db.tx() as conn:
            await bulk_insert_tickets(conn, batch)
    async with db.tx() as conn:
        await conn.execute("ANALYZE")
    print()


TARGET_MS = 50.0

Timings = dict[str, tuple[float, float]]     # label -> (p50, p95) in ms


async def timed(label: str, runs: int, call: object, baseline: float = 0.0,
                into: Timings | None = None) -> float:
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        await call(i)  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    ratio = f"   ×{p95 / baseline:6.1f} baseline   {p95 / TARGET_MS:4.2f} of target" \
        if baseline else ""
    print(f"{label:<48} p50 {statistics.median(samples):7.2f} ms   p95 {p95:7.2f} ms{ratio}")
    if into is not None:
        into[label] = (statistics.median(samples), p95)
    return p95


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--db", type=Path, default=None,
                        help="keep the database here and reuse it (default: a temporary one, "
                             "deleted at the end)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite",
                        help="time SQLite, PostgreSQL (copied from the SQLite database with "
                             "copy-db) or both side by side (default: sqlite)")
    parser.add_argument("--pg-url", default=None,
                        help="PostgreSQL database to fill and use (its rows are replaced); "
                             "default: a temporary server, deleted at the end")
    args = parser.parse_args()
    if args.db is not None:
        await run(args)
        return
    with tempfile.TemporaryDirectory(prefix="mahalleyar-bench-") as folder:
        args.db = Path(folder) / "bench.sqlite3"
        await run(args)


async def run(args: argparse.Namespace) -> None:
    db = Database(args.db)
    await db.open()
    await load_reference(db)
    print(f"database {args.db}")
    await build(db, args.tickets)
    await db.close()
    results: dict[str, Timings] = {}
    if args.backend in ("sqlite", "both"):
        print("\nSQLite")
        results["SQLite"] = await measure(Database(args.db), args)
    if args.backend in ("postgresql", "both"):
        from bench.pg import fill_from_sqlite, postgres_url
        from storage.backends import database_for

        async with postgres_url(args.pg_url) as url:
            await fill_from_sqlite(args.db, url)
            print("\nPostgreSQL")
            results["PostgreSQL"] = await measure(database_for(url), args)
    if len(results) == 2:
        side_by_side(results)


def side_by_side(results: dict[str, Timings]) -> None:
    names = list(results)
    print(f"\n{'p95, ms (p50)':<48} " + "  ".join(f"{n:>20}" for n in names)
          + f"   target ≤ {TARGET_MS:.0f} ms")
    for label in results[names[0]]:
        cells = []
        for name in names:
            p50, p95 = results[name].get(label, (float("nan"), float("nan")))
            cells.append(f"{p95:10.2f} ({p50:7.2f})")
        worst = max(results[n][label][1] for n in names if label in results[n])
        verdict = "" if label.startswith("baseline") else ("ok" if worst <= TARGET_MS else "OVER")
        print(f"{label:<48} " + "  ".join(f"{c:>20}" for c in cells) + f"   {verdict}")


async def measure(db: Database, args: argparse.Namespace) -> Timings:
    """The same service calls the handlers make, on `db` (opened here, closed at the end)."""
    await db.open()
    await load_reference(db)
    out: Timings = {}
    clock = FakeClock(NOW)
    settings = Settings(_env_file=None, database_path=args.db)
    deps = Deps(settings=settings, db=db, clock=clock, outbox=Outbox(db, clock))
    async with db.read() as conn:
        welfare = await places.house_by_code(conn, "welfare")
        n = await places.neighbourhood_by_code(conn, "THR01")
        city = await neighbourhood_ids(conn, "city", n.city_id if n else 0)
        sample = await conn.execute_fetchall(
            "SELECT code, phone FROM tickets WHERE phone IS NOT NULL ORDER BY id DESC LIMIT 200")
        total = next(iter(await conn.execute_fetchall("SELECT count(*) FROM tickets")))[0]
    assert welfare and n
    print(f"{total:,} tickets")
    # Baseline in the same run: one primary-key read through the same connection, i.e. the
    # floor of any query's round trip. Ratios show what the query itself costs on top.
    ids = [1 + (i * 7919) % total for i in range(args.runs)]

    async def by_id(i: int) -> None:
        async with db.read() as conn:
            await tickets_repo.get(conn, ids[i])

    base = await timed("baseline: ticket by primary key", args.runs, by_id, into=out)
    staff = Scope(1, "staff", [Area(welfare.id, (n.id,))], [], [welfare.id])
    supervisor = Scope(2, "supervisor", [Area(welfare.id, city)], [], [welfare.id])
    codes = [str(r[0]) for r in sample]
    phones = [str(r[1]) for r in sample]
    for name, scope in (("staff, 1 neighbourhood", staff), ("supervisor, whole city", supervisor)):
        for kind in ("all", "unassigned", "overdue"):
            await timed(f"/queue {kind} ({name})", args.runs,
                        lambda i, s=scope, k=kind: svc.queue(deps, s, k, i % 5), base, out)
        await timed(f"/search text ({name})", args.runs,
                    lambda i, s=scope: svc.search(deps, s, WORDS[i % len(WORDS)] + " "
                                                  + WORDS[(i * 7) % len(WORDS)]), base, out)
        await timed(f"/search code ({name})", args.runs,
                    lambda i, s=scope: svc.search(deps, s, codes[i % len(codes)]), base, out)
        await timed(f"/search phone ({name})", args.runs,
                    lambda i, s=scope: svc.search(deps, s, phones[i % len(phones)]), base, out)
    await db.close()
    return out


if __name__ == "__main__":
    asyncio.run(main())
