"""Consistent copies of the SQLite database, taken while the bot runs, and restoring them.

A backup is one `VACUUM INTO` on its own connection: a single read transaction, so the copy
is consistent and the bot's writes never make it start over (a stepwise online backup would).
None of this migrates the database: it copies what is there.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from bot.ops.lock import is_running

log = logging.getLogger(__name__)

PREFIX = "mahalleyar-"
SUFFIX = ".sqlite3"


class BackupError(Exception):
    """One line for the operator."""


def _connect_existing(path: Path, *, readonly: bool = True) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"{path}: no such database file")
    mode = "ro" if readonly else "rw"
    try:
        conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=10)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"{path}: not a usable SQLite database ({exc})") from None
    return conn


def schema_version(path: Path) -> int:
    conn = _connect_existing(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def backup(database: Path, target: Path) -> Path:
    """Write a consistent copy of `database` to `target` (a file, or a folder to put a dated
    file in), created 0600. Refuses to overwrite."""
    if target.is_dir():
        target = target / f"{PREFIX}{datetime.now():%Y%m%d-%H%M%S}{SUFFIX}"
    if target.exists():
        raise BackupError(f"{target}: already exists; choose a new name")
    conn = _connect_existing(database)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        conn.close()
        raise BackupError(f"{target}: cannot create ({exc.strerror})") from None
    os.close(fd)   # VACUUM INTO accepts an empty file and keeps its permissions
    try:
        conn.execute("VACUUM INTO ?", (str(target),))
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise BackupError(f"{target}: backup failed ({exc})") from None
    finally:
        conn.close()
    os.chmod(target, 0o600)
    return target


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` automatic backups in `folder`; returns the deleted."""
    dated = sorted(p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())
    old = dated[:-keep] if keep > 0 else dated
    for path in old:
        path.unlink(missing_ok=True)
    return old


def daily_backup(database: Path, folder: Path, keep: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    made = backup(database, folder)
    rotate(folder, keep)
    return made


def restore(source: Path, database: Path, known_version: int) -> None:
    """Replace `database` with the backup `source`. Refuses while a bot holds the database,
    and a backup newer than this code (it could not run on it)."""
    if is_running(database):
        raise BackupError(f"{database}: the bot is running (it holds {database}.lock); "
                          "stop it first")
    conn = _connect_existing(source)
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: not a usable SQLite database ({exc})") from None
    finally:
        conn.close()
    if check != "ok":
        raise BackupError(f"{source}: damaged ({check})")
    if version > known_version:
        raise BackupError(f"{source}: schema version {version} is newer than this program "
                          f"knows ({known_version}); install the newer version")
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(database.name + ".restoring")
    shutil.copyfile(source, partial)
    os.chmod(partial, 0o600)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.replace(partial, database)
