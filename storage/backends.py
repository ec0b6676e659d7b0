"""The database a DATABASE_URL names: `database_for(url)` (SQLite or PostgreSQL, not yet
opened). asyncpg is imported only when the URL is a PostgreSQL one."""

from __future__ import annotations

from pathlib import Path

from storage.db import Database, SqliteDatabase
from storage.url import DatabaseUrl, parse_database_url


def database_for(url: DatabaseUrl | str | Path) -> Database:
    """`url`: a DatabaseUrl, a DATABASE_URL string, or a plain SQLite path."""
    if isinstance(url, Path):
        return SqliteDatabase(url)
    if isinstance(url, str):
        if "://" not in url:
            return SqliteDatabase(url)
        url = parse_database_url(url)
    if url.dialect == "postgresql":
        from storage.pg import PgDatabase

        return PgDatabase(url)
    return SqliteDatabase(url.path)
