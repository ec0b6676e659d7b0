"""PostgreSQL for the benchmarks: a database to run the same calls on, filled from the
SQLite database the benchmark built, with `copy-db` (COPY in chunks, verified).

Without `--pg-url` a temporary server is started from the Debian `postgresql` package's
binaries (tests/pg_server.py: as the `postgres` user when run as root, fsync off, 127.0.0.1
on a free port) and deleted at the end. Its database has a UTF-8 ctype (C.UTF-8), as a
production one must: under the "C" ctype pg_trgm finds no Persian trigrams and /search reads
the whole table."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from storage.backends import database_for
from storage.copy import copy_database, redact, report_lines

BENCH_DATABASE = "mahalleyar_bench"


@asynccontextmanager
async def postgres_url(given: str | None) -> AsyncIterator[str]:
    """`given` as it is, or a fresh database on a temporary server (stopped at the end)."""
    if given:
        yield given
        return
    import tempfile

    from tests.pg_server import PgServer, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL server binaries (install the postgresql package, "
                         "set PG_BIN, or give --pg-url)")
    server = PgServer(bin_dir, Path(tempfile.mkdtemp(prefix="mahalleyar-bench-pg-")))
    server.start()
    try:
        await server._admin(f"CREATE DATABASE {BENCH_DATABASE} TEMPLATE template0 "
                            "ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'")
        print(f"PostgreSQL: temporary server {bin_dir} on 127.0.0.1:{server.port}")
        yield server.url(BENCH_DATABASE)
    finally:
        server.stop()


async def fill_from_sqlite(sqlite_path: Path, pg_url: str) -> None:
    """Migrate the PostgreSQL database and copy the SQLite one into it (skipped when it
    already holds as many tickets: a kept --pg-url database is reused)."""
    import sqlite3

    db = database_for(pg_url)
    await db.open()          # migrates
    async with db.read() as conn:
        have = int(next(iter(await conn.execute_fetchall("SELECT count(*) FROM tickets")))[0])
    await db.close()
    with sqlite3.connect(sqlite_path) as raw:
        want = int(raw.execute("SELECT count(*) FROM tickets").fetchone()[0])
    if have == want:
        print(f"PostgreSQL {redact(pg_url)} already holds {have:,} tickets: reused")
        return
    source = f"sqlite:///{sqlite_path}"     # relative: sqlite:///x; absolute: sqlite:////x
    print(f"copy-db {source} -> {redact(pg_url)}")
    started = time.perf_counter()
    result = await copy_database(source, pg_url, replace=True, progress=print)
    if not result.ok:
        print("\n".join(report_lines(result)))
        raise SystemExit("copy-db did not verify")
    rows = sum(t.target_rows for t in result.tables)
    print(f"  copied and verified {rows:,} rows in {time.perf_counter() - started:.0f} s")
