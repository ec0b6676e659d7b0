"""The weekly picture: with the first digest of each Jalali week, every mayor and supervisor
gets the `/stats` chart of their own scope as a photo of its own (a caption holds only 1,024
characters, so the digest stays a text).

`bot.services.reports.weekly_pictures` decides who is due (once per person and week, through
the outbox's idempotency key) and gathers the figures; this module draws each chart off the
event loop (`bot.ui.charts.render`), keeps the file until the outbox has sent it, and queues it.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path

from bot.deps import Deps
from bot.i18n import translator
from bot.services import reports
from bot.ui import charts
from bot.ui.reports import weekly_caption

log = logging.getLogger(__name__)

KEEP_DAYS = 14          # chart files older than this were sent (or never will be)


def chart_folder(deps: Deps) -> Path:
    """`charts/` next to the database (a temporary folder for an in-memory or a PostgreSQL
    one)."""
    if deps.db.dialect != "sqlite" or deps.db.path == ":memory:":
        return Path(tempfile.gettempdir()) / "mahalleyar-charts"
    return Path(deps.db.path).resolve().parent / "charts"


def _prepare(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    limit = time.time() - KEEP_DAYS * 86400
    for old in folder.glob("weekly-*.png"):
        if old.stat().st_mtime < limit:
            old.unlink(missing_ok=True)


async def send_weekly_charts(deps: Deps) -> int:
    """Draw and queue this week's chart for every mayor and supervisor who has not had it;
    returns how many were queued. Safe to call with every digest."""
    pictures = await reports.weekly_pictures(deps)
    if not pictures:
        return 0
    folder = chart_folder(deps)
    await asyncio.to_thread(_prepare, folder)
    queued = 0
    for picture in pictures:
        tr = translator(picture.locale)
        try:
            png = await charts.render(charts.weekly_spec(tr, picture.series))
        except Exception:
            log.exception("weekly chart for %s failed", picture.chat_id)
            continue
        path = folder / (picture.key.replace(":", "-") + ".png")
        await asyncio.to_thread(path.write_bytes, png)
        queued += await reports.queue_weekly_picture(deps, picture, path, weekly_caption(tr))
    return queued
