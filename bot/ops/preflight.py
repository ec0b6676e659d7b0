"""Checks before anything starts, each failing with one line that names the variable."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sqlite3
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bot.config import Settings
from storage.db import DatabaseUnavailable, private_files
from storage.url import DatabaseUrl, Dialect

log = logging.getLogger(__name__)


class StartError(Exception):
    """Cannot start; the message is one line naming the variable to fix."""


class TokenRejected(StartError):
    pass


def known_schema_version(dialect: Dialect = "sqlite") -> int:
    from storage.db import migration_files

    return len(migration_files(dialect))


def database_url_problem(url: DatabaseUrl, variable: str = "DATABASE_URL",
                         timeout: float = 10.0) -> str | None:
    """A PostgreSQL DATABASE_URL: reachable, and its schema not newer than this code; one
    line naming DATABASE_URL (never the password) or None. A SQLite URL: `database_problem`.
    (Outside an event loop; inside one: `await postgres_problem(url)`.)"""
    if url.dialect == "sqlite":
        return database_problem(Path(url.path), variable)
    return asyncio.run(postgres_problem(url, timeout))


async def postgres_problem(url: DatabaseUrl, timeout: float = 10.0) -> str | None:
    try:
        version = await postgres_schema_version(url, timeout)
    except DatabaseUnavailable as exc:
        return str(exc)
    if version > (known := known_schema_version("postgresql")):
        return (f"DATABASE_URL: {url.where} has schema version {version}, newer than this "
                f"program ({known}); run the newer version")
    return None


async def postgres_schema_version(url: DatabaseUrl, timeout: float = 10.0) -> int:
    """Connect, read the schema version (0 for an empty database), disconnect; never
    migrates. DatabaseUnavailable (one line, password-free) when it cannot."""
    from storage.pg import PgDatabase

    db = PgDatabase(url, connect_timeout=timeout)
    await db.open(migrate=False)
    try:
        return await db.schema_version()
    finally:
        await db.close()


def database_problem(path: Path, variable: str = "DATABASE_PATH") -> str | None:
    """Whether the bot could open (and create) its database there; None when it can."""
    if path.exists() and not path.is_file():
        return f"{variable}: {path} is not a file"
    if path.parent.exists() and not path.parent.is_dir():
        return f"{variable}: {path.parent} is not a folder"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"{variable}: cannot create the folder {path.parent} ({exc.strerror})"
    try:
        private_files(path)
        conn = sqlite3.connect(path, timeout=5)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except OSError as exc:
        return f"{variable}: cannot create {path} ({exc.strerror})"
    except sqlite3.Error as exc:
        return f"{variable}: cannot open {path} as an SQLite database ({exc})"
    if version > (known := known_schema_version()):
        return (f"{variable}: {path} has schema version {version}, newer than this program "
                f"({known}); run the newer version or restore an older backup")
    return None


def port_problem(host: str, port: int, variable: str) -> str | None:
    """Binds and releases the port (like the server will, with SO_REUSEADDR)."""
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"{variable}: cannot resolve the address {host!r} ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"{variable}: port {port} on {host} is already in use"
            return f"{variable}: cannot listen on {host}:{port} ({exc.strerror})"
    return None


@dataclass(frozen=True)
class BotApiAnswer:
    ok: bool
    username: str | None
    detail: str


def api_host(settings: Settings) -> str:
    parts = urlsplit(settings.bot_api_base_url)
    return f"{parts.scheme}://{parts.netloc}"


def proxy_for(url: str) -> str | None:
    """The proxy httpx will use for this URL (from HTTPS_PROXY/ALL_PROXY), credentials hidden."""
    proxies = urllib.request.getproxies()
    scheme = urlsplit(url).scheme
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(urlsplit(url).hostname or ""):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    return f"{parts.scheme}://{parts.hostname}:{parts.port}" if parts.port else \
        f"{parts.scheme}://{parts.hostname}"


def ask_get_me(settings: Settings, timeout: float = 10.0) -> BotApiAnswer:
    """One getMe. Never puts the token in what it returns."""
    assert settings.bot_token is not None
    token = settings.bot_token.get_secret_value()
    url = f"{settings.bot_api_base_url}{token}/getMe"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        reason = type(exc).__name__
        return BotApiAnswer(False, None, f"{api_host(settings)} unreachable ({reason})")
    if response.status_code in (401, 404):
        raise TokenRejected(f"BOT_TOKEN: rejected by the Bot API at {api_host(settings)} "
                            f"(HTTP {response.status_code}); check it with @BotFather "
                            "(Bale: its own BotFather) and BOT_API_BASE_URL")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and body.get("ok"):
        return BotApiAnswer(True, body["result"].get("username"), "ok")
    return BotApiAnswer(False, None, f"{api_host(settings)} answered HTTP "
                                     f"{response.status_code}")


def wait_for_bot_api(settings: Settings, *, first_delay: float = 1.0, max_delay: float = 60.0,
                     attempts: int | None = None,
                     alive: Callable[[], None] | None = None) -> str | None:
    """getMe until it works, waiting 1, 2, 4 … 60 s between tries, so that an outage at start
    does not become a crash loop (`alive` keeps the health check's heartbeat going meanwhile).
    Raises TokenRejected at once for a rejected token."""
    delay, tried = first_delay, 0
    while True:
        answer = ask_get_me(settings)
        if answer.ok:
            return answer.username
        tried += 1
        if attempts is not None and tried >= attempts:
            raise StartError(f"BOT_API_BASE_URL: {answer.detail}")
        via = proxy_for(settings.bot_api_base_url)
        log.warning("Bot API %s%s; trying again in %.0f s", answer.detail,
                    f" via proxy {via}" if via else "", delay)
        if alive is not None:
            alive()
        time.sleep(delay)
        delay = min(delay * 2, max_delay)
