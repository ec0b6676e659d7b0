"""A real PostgreSQL server for the test run, from the Debian `postgresql` package's binaries.

`pg_server` (session-scoped) runs `initdb` + `pg_ctl start` in a temporary data directory as
an unprivileged user (as root: the `postgres` user through `runuser`, since initdb refuses
root), listening only on 127.0.0.1 on a free port, with fsync off. The first test that asks
migrates a template database once; each test then gets its own database copied from it
(`CREATE DATABASE tN TEMPLATE tmpl`, a few milliseconds) and dropped afterwards.

No binaries (PG_BIN unset and no /usr/lib/postgresql/*/bin/postgres): the PostgreSQL tests
are skipped with that reason. `scripts/postgres-deps.sh` installs the package (CI does).
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TEMPLATE = "mahalleyar_tmpl"
SUPERUSER = "postgres"


def find_pg_bin() -> Path | None:
    """PG_BIN if set, else the newest /usr/lib/postgresql/<version>/bin with a server."""
    if env := os.environ.get("PG_BIN"):
        path = Path(env)
        return path if (path / "postgres").exists() else None
    found = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin"):
        if (candidate / "postgres").exists() and (candidate / "initdb").exists():
            try:
                found.append((float(candidate.parent.name), candidate))
            except ValueError:
                continue
    return max(found)[1] if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    bin_dir: Path
    data_dir: Path
    port: int = 0
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _template_ready: bool = False
    _template_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True,
                              timeout=120)

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if self.as_root:
            shutil.chown(self.data_dir, SUPERUSER, SUPERUSER)
        pgdata = self.data_dir / "data"
        self._run("initdb", "-D", str(pgdata), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        for attempt in range(3):
            self.port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                       f"-c unix_socket_directories={self.data_dir} -c fsync=off "
                       f"-c synchronous_commit=off -c full_page_writes=off "
                       f"-c max_connections=200 -c shared_buffers=64MB")
            result = self._run("pg_ctl", "-D", str(pgdata), "-o", options,
                               "-l", str(self.data_dir / "server.log"), "-w", "-t", "60",
                               "start", check=False)
            if result.returncode == 0:
                return
            if attempt == 2:
                log = (self.data_dir / "server.log")
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{tail}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data_dir / "data"), "-m", "immediate", "-w",
                  "stop", check=False)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    async def _admin(self, *statements: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.url("postgres"), timeout=30)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def _build_template(self) -> None:
        from storage.backends import database_for

        await self._admin(f"DROP DATABASE IF EXISTS {TEMPLATE}", f"CREATE DATABASE {TEMPLATE}")
        db = database_for(self.url(TEMPLATE))
        await db.open()         # migrates
        await db.close()

    def _ensure_template(self) -> None:
        with self._template_lock:
            if self._template_ready:
                return
            error: list[BaseException] = []

            def build() -> None:     # its own loop: the caller's loop may be running
                try:
                    asyncio.run(self._build_template())
                except BaseException as exc:
                    error.append(exc)

            thread = threading.Thread(target=build)
            thread.start()
            thread.join()
            if error:
                raise error[0]
            self._template_ready = True

    async def new_database(self) -> str:
        """A fresh, migrated database of its own; returns its URL."""
        await asyncio.to_thread(self._ensure_template)
        name = f"t{os.getpid()}_{next(self._counter)}"
        await self._admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    async def empty_database(self) -> str:
        """A database with nothing in it (not even migrations)."""
        name = f"e{os.getpid()}_{next(self._counter)}"
        await self._admin(f"CREATE DATABASE {name}")
        return self.url(name)

    async def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_SERVER: PgServer | None = None
_SKIP_REASON: str | None = None


def server() -> PgServer:
    """The session's server, started on first use; skips the test without binaries."""
    global _SERVER, _SKIP_REASON
    if _SERVER is not None:
        return _SERVER
    if _SKIP_REASON is None:
        bin_dir = find_pg_bin()
        if bin_dir is None:
            _SKIP_REASON = ("no PostgreSQL server binaries (set PG_BIN or install the "
                            "postgresql package: scripts/postgres-deps.sh)")
        elif os.geteuid() == 0 and shutil.which("runuser") is None:
            _SKIP_REASON = "running as root without runuser: cannot start PostgreSQL"
        else:
            candidate = PgServer(bin_dir, Path(tempfile.mkdtemp(prefix="mahalleyar-pg-")))
            atexit.register(stop_server)     # also when the run is interrupted
            candidate.start()
            _SERVER = candidate
            return candidate
    pytest.skip(_SKIP_REASON)


def stop_server() -> None:
    global _SERVER
    if _SERVER is not None:
        _SERVER.stop()
        _SERVER = None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    yield server()
    stop_server()


@pytest.fixture
async def pg_url(pg_server: PgServer) -> AsyncIterator[str]:
    """The URL of a fresh migrated PostgreSQL database for this test (dropped after)."""
    url = await pg_server.new_database()
    try:
        yield url
    finally:
        await pg_server.drop(url)
