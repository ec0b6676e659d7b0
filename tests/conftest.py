"""Shared fixtures: an emulator plus the real bot, per test, offline."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import Harness, start_harness, stop_harness

# Tests never read a developer's .env or real token.
for _name in list(os.environ):
    if _name.upper() in {"BOT_TOKEN", "BOT_API_BASE_URL", "DATABASE_PATH", "ADMIN_IDS",
                         "ADMIN_CHAT_ID", "RESPONSE_WINDOW_HOURS", "DEFAULT_LOCALE"}:
        del os.environ[_name]


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = await start_harness(tmp_path)
    try:
        yield harness
    finally:
        await stop_harness(harness)
