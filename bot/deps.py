"""What every handler needs, built once in the composition root."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.config import Settings
from bot.domain.workcal import WALL, Span, WorkCalendar
from bot.outbox_queue import OutboxQueue
from bot.reference import load_calendar
from storage.db import Database


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    outbox: OutboxQueue     # the writing side; the app passes the worker (`bot.outbox.Outbox`)
    # One SLA sweep at a time per process (the periodic job and the sandbox clock panel).
    sla_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The working calendar (office hours, holidays, dated hours); built from the settings
    # and data/ on first use unless given (tests pass their own).
    work_calendar: WorkCalendar | None = None

    @property
    def calendar(self) -> WorkCalendar:
        if self.work_calendar is None:
            self.work_calendar = load_calendar(self.settings.tz, self.settings.week)
        return self.work_calendar

    def span(self, clock: str) -> Span:
        """How a window on `clock` (calendar | office) is measured."""
        return self.calendar if clock == "office" else WALL
