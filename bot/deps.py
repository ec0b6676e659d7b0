"""What every handler needs, built once in the composition root."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.config import Settings
from bot.outbox_queue import OutboxQueue
from storage.db import Database


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    outbox: OutboxQueue     # the writing side; the app passes the worker (`bot.outbox.Outbox`)
    # One SLA sweep at a time per process (the periodic job and the sandbox clock panel).
    sla_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
