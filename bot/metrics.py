"""Prometheus metrics (METRICS_PORT). Code elsewhere calls one hook each; what the database
already knows (outbox backlog, SLA lag, breaches) is read from it at scrape time, so the
numbers are right even while Telegram is unreachable and nothing is being sent."""

from __future__ import annotations

import functools
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry()
UPDATES = Counter("mahalleyar_updates_handled", "Updates received from the Bot API",
                  registry=REGISTRY)
API_RESPONSES = Counter("mahalleyar_bot_api_responses", "Bot API responses by status class",
                        ["status"], registry=REGISTRY)
API_NETWORK_ERRORS = Counter("mahalleyar_bot_api_network_errors",
                             "Bot API calls that got no HTTP answer", registry=REGISTRY)
LAST_POLL = Gauge("mahalleyar_last_bot_api_success_timestamp_seconds",
                  "Unix time of the last successful Bot API answer", registry=REGISTRY)
SWEEP = Histogram("mahalleyar_sla_sweep_duration_seconds", "Duration of one SLA sweep",
                  buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                  registry=REGISTRY)
SWEEP_LAST = Gauge("mahalleyar_sla_sweep_last_timestamp_seconds",
                   "Unix time the last SLA sweep finished", registry=REGISTRY)

P = ParamSpec("P")
T = TypeVar("T")


def update_handled() -> None:
    UPDATES.inc()


def api_status(code: int) -> None:
    """Counted by class, with 429 on its own (flood control) and 5xx (Telegram trouble)."""
    label = "429" if code == 429 else f"{code // 100}xx"
    API_RESPONSES.labels(status=label).inc()
    if 200 <= code < 300:
        LAST_POLL.set(time.time())


def timed_sweep(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Decorator for the SLA sweep: its duration and when it last ran."""

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        started = time.perf_counter()
        try:
            return await func(*args, **kwargs)
        finally:
            SWEEP.observe(time.perf_counter() - started)
            SWEEP_LAST.set(time.time())

    return wrapper


class CountingRequest(HTTPXRequest):
    """PTB's HTTP client, counting answers by status (every call: outbox, polling, replies)."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            code, payload = await super().do_request(*args, **kwargs)
        except Exception:
            API_NETWORK_ERRORS.inc()
            raise
        api_status(code)
        return code, payload


def counting_request(pool_size: int, *, read_timeout: float = 5.0,
                     write_timeout: float = 5.0, connect_timeout: float = 5.0,
                     pool_timeout: float = 1.0) -> CountingRequest:
    return CountingRequest(connection_pool_size=pool_size, read_timeout=read_timeout,
                           write_timeout=write_timeout, connect_timeout=connect_timeout,
                           pool_timeout=pool_timeout)


class DatabaseCollector(Collector):
    """Outbox backlog and age, SLA lag, breaches: read from the database at each scrape."""

    def __init__(self, database: Path) -> None:
        self.database = database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            values = read_database(self.database, datetime.now(UTC))
        except sqlite3.Error as exc:
            log.warning("metrics: cannot read the database: %s", exc)
            values = {}
        up = GaugeMetricFamily("mahalleyar_database_up", "1 if the database could be read")
        up.add_metric([], 1.0 if values else 0.0)
        yield up
        for name, text in METRIC_TEXTS.items():
            if name in values:
                family = GaugeMetricFamily(name, text)
                family.add_metric([], values[name])
                yield family


METRIC_TEXTS = {
    "mahalleyar_outbox_backlog": "Messages queued in the outbox, not yet sent",
    "mahalleyar_outbox_oldest_age_seconds": "Age of the oldest queued outbox message",
    "mahalleyar_outbox_failed": "Outbox messages given up on",
    "mahalleyar_sla_lag_seconds": "How late the most overdue SLA check is (0 = on time)",
    "mahalleyar_sla_breaches": "Requests that passed their response deadline (all time)",
}


def _age(now: datetime, iso: str | None) -> float:
    if not iso:
        return 0.0
    then = datetime.fromisoformat(iso)
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, (now - then).total_seconds())


def read_database(database: Path, now: datetime) -> dict[str, float]:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=2)
    try:
        backlog, oldest = conn.execute(
            "SELECT count(*), min(created_at) FROM outbox "
            "WHERE status IN ('pending', 'sending')").fetchone()
        failed = conn.execute("SELECT count(*) FROM outbox WHERE status = 'failed'").fetchone()[0]
        next_check = conn.execute(
            "SELECT min(sla_next_at) FROM tickets WHERE sla_next_at IS NOT NULL").fetchone()[0]
        breaches = conn.execute(
            "SELECT count(*) FROM sla_actions WHERE action = 'breach'").fetchone()[0]
    finally:
        conn.close()
    return {
        "mahalleyar_outbox_backlog": float(backlog),
        "mahalleyar_outbox_oldest_age_seconds": _age(now, oldest),
        "mahalleyar_outbox_failed": float(failed),
        "mahalleyar_sla_lag_seconds": _age(now, next_check),
        "mahalleyar_sla_breaches": float(breaches),
    }


_database_collector: DatabaseCollector | None = None


def serve(host: str, port: int, database: Path | None) -> None:
    """Start the endpoint in a thread (raises OSError if the port is taken). `database`:
    the SQLite file the database gauges read (None: no database gauges)."""
    global _database_collector
    if _database_collector is None and database is not None:
        _database_collector = DatabaseCollector(database)
        REGISTRY.register(_database_collector)
    start_http_server(port, addr=host, registry=REGISTRY)
    log.info("metrics on http://%s:%d/metrics", host, port)
