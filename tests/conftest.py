"""Shared fixtures: an emulator plus the real bot, per test, offline."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.url import sqlite_url
from tests.harness import Harness, start_harness, stop_harness
from tests.pg_server import pg_server, pg_url, server, stop_server

__all__ = ["pg_server", "pg_url"]    # fixtures, for every test module

# The backends the database-touching tests run on (ids `sqlite`, `postgresql`).
# TEST_BACKENDS=sqlite runs only one of them (a quick local loop); CI runs both.
BACKENDS = [b.strip() for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",")
            if b.strip()]

# Tests never read a developer's .env or real token.
for _name in list(os.environ):
    if _name.upper() in {"BOT_TOKEN", "BOT_API_BASE_URL", "DATABASE_PATH", "DATABASE_URL",
                         "ADMIN_IDS", "ADMIN_CHAT_ID", "RESPONSE_WINDOW_HOURS", "DEFAULT_LOCALE"}:
        del os.environ[_name]


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database's URL: a SQLite file in tmp_path, or a migrated PostgreSQL database
    of its own on the test run's server (skipped, with the reason, when there is none)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "test.sqlite3")
        return
    if marker := request.node.get_closest_marker("sqlite_only"):
        pytest.skip(f"SQLite by nature: {marker.args[0] if marker.args else ''}")
    pg = server()
    url = await pg.new_database()
    try:
        yield url
    finally:
        await pg.drop(url)


@pytest.fixture
async def h(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    harness = await start_harness(tmp_path, database_url=database_url)
    try:
        yield harness
    finally:
        await stop_harness(harness)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(why): a test about SQLite files by nature "
                            "(permissions, WAL, file backups, kill -9 on a file); its "
                            "[postgresql] run is skipped with the reason")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_server()       # the PostgreSQL server, if a test started one
