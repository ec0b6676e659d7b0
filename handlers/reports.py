"""/stats (figures for a period, then the weekly chart as a photo) and /export (CSV or XLSX
files of a period, private chat only, with a progress message edited while it runs)."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler

from bot.context import CustomContext
from bot.services import reports
from bot.services.errors import Refused
from bot.ui import charts, errors
from bot.ui import reports as texts
from handlers import ticket_kit as kit

log = logging.getLogger(__name__)

PROGRESS_AFTER_S = 1.5        # an export quicker than this needs no progress message
PROGRESS_EVERY_S = 3.0        # Telegram allows about one edit per second; stay well under


async def cmd_stats(update: Update, context: CustomContext) -> None:
    scope = await kit.guard(update, context, "any")
    if scope is None:
        return
    tr = context.tr
    args = kit.command_args(update, 1)
    try:
        report = await reports.stats(context.deps, scope, args[0] if args else "")
    except Refused as exc:
        await kit.say(update, context, errors.refused_text(tr, exc))
        return
    await kit.say(update, context, texts.stats_text(tr, report))
    if report.weekly is None or not any(any(v) for v in report.weekly.counts.values()):
        return
    try:
        png = await charts.render(charts.weekly_spec(tr, report.weekly))
    except Exception:
        log.exception("stats chart failed")
        return
    await context.bot.send_photo(kit.chat_id(update), photo=png, filename="stats.png",
                                 caption=texts.chart_caption(tr))


class _Progress:
    """Edits one message as the export advances (sent only if it takes a while)."""

    def __init__(self, update: Update, context: CustomContext) -> None:
        self.update, self.context = update, context
        self.started = time.monotonic()
        self.last = 0.0
        self.message: Message | None = None

    async def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started < PROGRESS_AFTER_S or now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        text = texts.export_progress(self.context.tr, done, total)
        try:
            if self.message is None:
                self.message = await kit.say(self.update, self.context, text)
            else:
                await self.message.edit_text(text)
        except TelegramError as exc:          # progress is a courtesy; the export goes on
            log.info("export progress not shown: %s", exc)


async def cmd_export(update: Update, context: CustomContext) -> None:
    scope = await kit.guard(update, context, "any")
    if scope is None:
        return
    tr = context.tr
    args = kit.command_args(update, 1)
    progress = _Progress(update, context)
    try:
        export = await reports.export(context.deps, scope, args[0] if args else "",
                                      locale=tr.locale, private=not kit.is_group(update),
                                      progress=progress)
    except Refused as exc:
        await kit.say(update, context, errors.refused_text(tr, exc))
        return
    try:
        for number, path in enumerate(export.files, start=1):
            data = await asyncio.to_thread(path.read_bytes)       # not in the event loop
            await context.bot.send_document(
                kit.chat_id(update), document=data, filename=path.name,
                caption=texts.export_caption(tr, export.period, export.rows, number,
                                             len(export.files)))
            del data
    finally:
        await export.discard()
    if progress.message is not None:
        try:
            await progress.message.edit_text(texts.export_done(tr, export.rows))
        except TelegramError:
            pass


HANDLERS: list[BaseHandler[Update, CustomContext, None]] = [
    CommandHandler("stats", cmd_stats),
    CommandHandler("export", cmd_export),
]
