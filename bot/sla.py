"""The SLA jobs on PTB's JobQueue: one repeating sweep (never a job per ticket), the daily
digest at local morning time (with the weekly chart on the first of each Jalali week) and
housekeeping. What they decide and queue is the use case
`bot.services.sla`; this module only schedules it."""

from __future__ import annotations

import logging
from datetime import time
from typing import Any

from telegram.ext import Application

from bot import metrics
from bot.deps import Deps
from bot.fence import FENCE
from bot.services.privacy import anonymise_due
from bot.services.sla import housekeeping, run_digest, sweep
from bot.weekly_chart import send_weekly_charts

__all__ = ["housekeeping", "register_jobs", "run_digest", "sweep"]

log = logging.getLogger(__name__)


_timed_sweep = metrics.timed_sweep(sweep)


async def _sweep_job(context: Any) -> None:
    await _timed_sweep(context.application.bot_data["deps"])


async def _digest_job(context: Any) -> None:
    deps = context.application.bot_data["deps"]
    try:
        await run_digest(deps)
    except Exception:
        log.exception("daily digest failed")
    try:
        # The first digest of each Jalali week brings mayors and supervisors the week's chart.
        await send_weekly_charts(deps)
    except Exception:
        log.exception("weekly charts failed")


async def _retention_job(context: Any) -> None:
    """RETENTION_DAYS after closing, requests lose their personal data (the consent says so)."""
    try:
        done = await anonymise_due(context.application.bot_data["deps"])
        log.info("retention: anonymised %d closed requests", done)
    except Exception:
        log.exception("retention job failed")


async def _housekeeping_job(context: Any) -> None:
    deps = context.application.bot_data["deps"]
    try:
        removed = await housekeeping(deps)
        log.info("housekeeping: forgot %d old update ids", removed)
    except Exception:
        log.exception("housekeeping failed")


def _leader_only(job: Any) -> Any:
    """A job runs only while this process leads (bot/fence.py)."""
    async def run(context: Any) -> None:
        if FENCE.acting:
            await job(context)
    run.__name__ = job.__name__
    return run


def register_jobs(app: Application[Any, Any, Any, Any, Any, Any], deps: Deps) -> None:
    """One repeating sweep (never a job per ticket) and the digest at local morning time."""
    queue = app.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    settings = deps.settings
    queue.run_repeating(_leader_only(_sweep_job), interval=settings.sla_sweep_seconds,
                        first=settings.sla_sweep_seconds, name="sla_sweep")
    hour, minute = (int(x) for x in settings.digest_time.split(":"))
    queue.run_daily(_leader_only(_digest_job), time=time(hour, minute, tzinfo=settings.tz),
                    name="sla_digest")
    queue.run_daily(_leader_only(_housekeeping_job), time=time(4, 0, tzinfo=settings.tz),
                    name="housekeeping")
    queue.run_daily(_leader_only(_retention_job), time=time(4, 15, tzinfo=settings.tz),
                    name="retention")
