"""What every handler needs, built once in the composition root."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.config import Settings
from storage.db import Database

if TYPE_CHECKING:
    from bot.outbox import Outbox


@dataclass
class Deps:
    settings: Settings
    db: Database
    clock: Clock
    outbox: Outbox
    # One SLA sweep at a time per process (the periodic job and the sandbox clock panel).
    sla_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
