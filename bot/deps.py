"""What every handler needs, built once in the composition root."""

from __future__ import annotations

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
    extras: dict[str, object] = field(default_factory=dict)
