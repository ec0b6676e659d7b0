"""The running bot holds `<database>.lock` (an exclusive flock), so `restore` and `migrate`
can tell that it runs; the lock file's mtime is the bot's heartbeat for health checks."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


def lock_path(database: Path) -> Path:
    return Path(f"{database}.lock")


def lock_anchor(settings: Settings) -> Path:
    """The path the lock file and heartbeat hang on: the SQLite file itself, or for a
    PostgreSQL database a name in the temporary folder derived from its host and name (one
    bot per database on this machine; across machines: leadership, issue 16)."""
    url = settings.database
    if url.dialect == "sqlite":
        return settings.database_path
    digest = hashlib.sha256(f"{url.where}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"mahalleyar-pg-{digest}"


class DatabaseLock:
    """Held for the bot's whole life; released by the kernel even if the process dies."""

    def __init__(self, database: Path) -> None:
        self.path = lock_path(database)
        self._fd: int | None = None

    def acquire(self) -> bool:
        """False when another process holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def beat(self) -> None:
        """Mark the process alive and working (health check reads the mtime)."""
        if self._fd is not None:
            os.utime(self.path)

    def release(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)   # closing releases the flock
            self._fd = None


def is_running(database: Path) -> bool:
    """Whether a bot process holds the lock of this database."""
    path = lock_path(database)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def heartbeat_age(database: Path) -> float | None:
    """Seconds since the running bot's last heartbeat; None when no bot runs."""
    if not is_running(database):
        return None
    return max(0.0, time.time() - lock_path(database).stat().st_mtime)
