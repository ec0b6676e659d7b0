"""Benchmark: /stats and /export on 1,000,000 tickets while a staff member uses /queue.

    python -m bench.bench_reports [--tickets N] [--db PATH] [--keep] [--wide]

Builds a temporary database with bench_queue's generator (in a child process, so this
process starts clean), then, in one asyncio process playing the bot:
- a staff /queue every 100 ms with nothing else running (idle p95),
- /stats of a city-wide supervisor (figures, then the chart) and /export of 2 years (CSV
  and XLSX), each while the same /queue keeps running every 100 ms,
and prints wall time, peak RSS of the bot and of every process it starts (summed, sampled
every 20 ms by a monitor process), the longest event-loop stall (a 10 ms ticker's worst
lag) and /queue p95 against its idle p95 (ratio). `--wide` adds an admin's /stats and
export of everything (1M rows).
Targets (issue 13): RSS ≤ 256 MiB, stall ≤ 100 ms, /queue p95 ≤ 2× idle, /stats ≤ 2 s.
The temporary database is deleted at the end unless --keep or --db is given.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.bench_queue import NOW
from bot.clock import FakeClock
from bot.config import Settings
from bot.deps import Deps
from bot.i18n import translator
from bot.outbox import Outbox
from bot.services import reports
from bot.services import staff as svc
from bot.services.roles import Scope
from bot.ui import charts
from bot.ui.reports import stats_text
from storage import places
from storage.db import Database
from storage.staff_queries import Area, neighbourhood_ids

MIB = 1024 * 1024
TARGET_RSS_MIB, TARGET_STALL_MS, TARGET_RATIO, TARGET_STATS_S = 256, 100, 2.0, 2.0


def build_in_child(path: Path, count: int) -> None:
    code = ("import asyncio, sys\n"
            "from bench.bench_queue import build\n"
            "from bot.services.reference import load_reference\n"
            "from storage.db import Database\n"
            "async def main():\n"
            "    db = Database(sys.argv[1]); await db.open(); await load_reference(db)\n"
            "    await build(db, int(sys.argv[2])); await db.close()\n"
            "asyncio.run(main())\n")
    root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH")) if p))
    subprocess.run([sys.executable, "-c", code, str(path), str(count)], check=True, env=env)


# Samples the RSS of a process tree every 20 ms from a process of its own (a thread here would
# take the GIL from the very event loop being measured); prints the peak when stdin closes.
MONITOR = """
import os, sys, threading, time, psutil
root, me, peak, done = psutil.Process(int(sys.argv[1])), os.getpid(), 0, threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
while not done.is_set():
    total = 0
    try:
        for p in [root, *root.children(recursive=True)]:
            if p.pid != me:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
    except psutil.Error:
        pass
    peak = max(peak, total)
    time.sleep(0.02)
print(peak, flush=True)
"""


@dataclass
class Meter:
    """Peak RSS of this process plus all its children (from a monitor process), and the
    event loop's worst lag (a 10 ms ticker)."""

    peak_rss: int = 0
    worst_stall: float = 0.0
    _stop: bool = False
    _ticker_task: asyncio.Task[None] | None = None
    _monitor: asyncio.subprocess.Process | None = None

    @staticmethod
    def rss_now() -> int:
        return int(psutil.Process().memory_info().rss)

    async def _ticker(self) -> None:
        while not self._stop:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst_stall = max(self.worst_stall, time.perf_counter() - start - 0.01)

    async def start(self) -> None:
        self._stop, self.worst_stall = False, 0.0
        self._monitor = await asyncio.create_subprocess_exec(
            sys.executable, "-c", MONITOR, str(os.getpid()), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        await asyncio.sleep(0.1)
        self._ticker_task = asyncio.create_task(self._ticker())

    async def stop(self) -> None:
        self._stop = True
        assert self._ticker_task is not None and self._monitor is not None
        await self._ticker_task
        out, _ = await self._monitor.communicate(b"")
        self.peak_rss = int(out.strip() or 0)


class QueueProbe:
    """A staff /queue every 100 ms; latencies in ms."""

    def __init__(self, deps: Deps, scope: Scope) -> None:
        self.deps, self.scope = deps, scope
        self.samples: list[float] = []
        self._stop = False
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        i = 0
        while not self._stop:
            begin = time.perf_counter()
            await svc.queue(self.deps, self.scope, "all", i % 5)
            self.samples.append((time.perf_counter() - begin) * 1000)
            i += 1
            await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - begin)))

    def start(self) -> None:
        self.samples, self._stop = [], False
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> list[float]:
        self._stop = True
        assert self._task is not None
        await self._task
        return self.samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)] if ordered else float("nan")


async def measured(label: str, work: Callable[[], Awaitable[str]], probe: QueueProbe,
                   idle_p95: float, runs: int = 1) -> None:
    """`work` `runs` times in a row while /queue runs every 100 ms; one line of numbers. The
    machine is shared, so /queue is also timed idle for 5 s right before: the ratio is
    against that (same minute, same neighbours), and against the run's first idle p95."""
    probe.start()
    await asyncio.sleep(5)
    local_idle = p95(await probe.stop())
    meter = Meter()
    await meter.start()
    probe.start()
    walls, detail = [], ""
    for _ in range(runs):
        begin = time.perf_counter()
        detail = await work()
        walls.append(time.perf_counter() - begin)
    await asyncio.sleep(0.2)
    samples = await probe.stop()
    await meter.stop()
    busy = p95(samples)
    ratio = busy / local_idle if local_idle else float("nan")
    first = busy / idle_p95 if idle_p95 else float("nan")
    wall = (f"{walls[0]:6.2f} s" if runs == 1 else
            f"{statistics.median(walls):6.2f} s (median of {runs}, max {max(walls):.2f})")
    print(f"{label}\n    wall {wall}   peak RSS {meter.peak_rss / MIB:6.1f} MiB "
          f"(≤{TARGET_RSS_MIB})   stall {meter.worst_stall * 1000:6.1f} ms (≤{TARGET_STALL_MS})"
          f"\n    /queue p95 {busy:6.2f} ms = {ratio:4.2f}× idle just before ({local_idle:.2f} ms;"
          f" target ≤{TARGET_RATIO}×), {first:4.2f}× the first idle; n={len(samples)}; "
          f"load {os.getloadavg()[0]:.2f}")
    if detail:
        print(f"    {detail}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--wide", action="store_true", help="also export everything (admin)")
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    args = parser.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"mahalleyar-reports-{os.getpid()}.sqlite3"
    try:
        await run(path, args)
    finally:
        if args.db is None and not args.keep:
            remove_database(path)


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    print(f"removed {path}")


async def run(path: Path, args: argparse.Namespace) -> None:
    print(f"database {path}")
    started = time.perf_counter()
    build_in_child(path, args.tickets)
    print(f"built in {time.perf_counter() - started:.0f} s")
    db = Database(path)
    await db.open()
    clock = FakeClock(NOW)
    settings = Settings(_env_file=None, database_path=path)
    deps = Deps(settings=settings, db=db, clock=clock, outbox=Outbox(db, clock))
    async with db.read() as conn:
        welfare = await places.house_by_code(conn, "welfare")
        n = await places.neighbourhood_by_code(conn, "THR01")
        assert welfare and n
        city = await neighbourhood_ids(conn, "city", n.city_id)
        total = next(iter(await conn.execute_fetchall("SELECT count(*) FROM tickets")))[0]
    print(f"{total:,} tickets; bot RSS at start {Meter().rss_now() / MIB:.1f} MiB; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    staff = Scope(1, "staff", [Area(welfare.id, (n.id,))], [], [welfare.id])
    supervisor = Scope(2, "supervisor", [Area(welfare.id, city)], [], [welfare.id])
    admin = Scope(3, "admin", [Area(None, None)], [Area(None, None)], admin=True)
    tr = translator("fa")

    probe = QueueProbe(deps, staff)
    for i in range(20):                                  # warm the caches (every page)
        await svc.queue(deps, staff, "all", i % 5)
    meter = Meter()
    await meter.start()
    probe.start()
    await asyncio.sleep(args.idle_seconds)
    idle = await probe.stop()
    await meter.stop()
    idle_p95 = p95(idle)
    print(f"idle: staff /queue every 100 ms\n    p95 {idle_p95:6.2f} ms (n={len(idle)})   "
          f"stall {meter.worst_stall * 1000:.1f} ms   RSS {meter.peak_rss / MIB:.1f} MiB")

    async def stats_figures() -> str:
        report = await reports.stats(deps, supervisor)
        return (f"{report.total.received:,} requests in 30 days, "
                f"{len(stats_text(tr, report))} characters of text")

    async def stats_with_chart() -> str:
        begin = time.perf_counter()
        report = await reports.stats(deps, supervisor)
        text = stats_text(tr, report)
        figures = time.perf_counter() - begin
        assert report.weekly is not None
        png = await charts.render(charts.weekly_spec(tr, report.weekly))
        return (f"text after {figures:.2f} s ({len(text)} chars), chart after "
                f"{time.perf_counter() - begin:.2f} s ({len(png) // 1024} KiB PNG)")

    def exporter(scope: Scope, fmt: str) -> Callable[[], Awaitable[str]]:
        async def work() -> str:
            export = await reports.export(deps, scope, f"2024-11-26 2026-11-25 {fmt}",
                                          locale="fa", private=True)
            try:
                sizes = ", ".join(f"{p.stat().st_size / MIB:.1f}" for p in export.files)
                return f"{export.rows:,} rows in {len(export.files)} file(s): {sizes} MiB"
            finally:
                await export.discard()
        return work

    await measured("/stats figures (supervisor, city)", stats_figures, probe, idle_p95, 20)
    await measured("/stats + chart (supervisor, city)", stats_with_chart, probe, idle_p95, 5)
    await measured("/export 2 years CSV (supervisor)", exporter(supervisor, "csv"), probe,
                   idle_p95, 3)
    await measured("/export 2 years XLSX (supervisor)", exporter(supervisor, "xlsx"), probe,
                   idle_p95)
    if args.wide:
        await measured("/stats figures (admin, all)",
                       lambda: _admin_stats(deps, admin), probe, idle_p95, 3)
        await measured("/export 2 years CSV (admin, all)", exporter(admin, "csv"), probe,
                       idle_p95)
    await db.close()


async def _admin_stats(deps: Deps, admin: Scope) -> str:
    report = await reports.stats(deps, admin)
    return f"{report.total.received:,} requests in 30 days"


if __name__ == "__main__":
    asyncio.run(main())
