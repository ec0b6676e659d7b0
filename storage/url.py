"""`DATABASE_URL`: which backend, and where. Parsed in one place; the password never leaves
it in a printable form (`DatabaseUrl.safe` and `str()` mask it).

    sqlite:///relative/path.sqlite3       a file relative to the working folder
    sqlite:////absolute/path.sqlite3      an absolute path (four slashes)
    sqlite:///:memory:                    an in-memory database (tests)
    postgresql://user:pass@host:port/db   a PostgreSQL server (also postgres://)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

Dialect = Literal["sqlite", "postgresql"]

_PG_SCHEMES = ("postgresql", "postgres")


class DatabaseUrlError(ValueError):
    """A DATABASE_URL that cannot be used; the message never contains the password."""


@dataclass(frozen=True)
class DatabaseUrl:
    dialect: Dialect
    path: str = ""                       # sqlite: the file (or ":memory:")
    host: str = ""                       # postgresql
    port: int | None = None
    database: str = ""
    user: str = ""
    password: str = field(default="", repr=False)
    query: str = ""                      # postgresql: ?sslmode=... and the like, passed on
    raw: str = field(default="", repr=False, compare=False)

    @property
    def safe(self) -> str:
        """The URL as it may be logged: the password replaced by `***`."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.path}"
        auth = self.user + (":***" if self.password else "")
        port = f":{self.port}" if self.port else ""
        query = f"?{mask_query(self.query)}" if self.query else ""
        return f"postgresql://{auth + '@' if auth else ''}{self.host}{port}/{self.database}{query}"

    @property
    def where(self) -> str:
        """Short human description for `check` and error lines: a path or host/db."""
        if self.dialect == "sqlite":
            return self.path
        port = f":{self.port}" if self.port else ""
        return f"{self.host or 'localhost'}{port}/{self.database}"

    def __str__(self) -> str:
        return self.safe

    @property
    def dsn(self) -> str:
        """The URL asyncpg connects with (password included: never log it)."""
        return self.raw


def sqlite_url(path: Path | str) -> str:
    """The URL of a SQLite file (what DATABASE_URL defaults to, from DATABASE_PATH)."""
    text = str(path)
    return f"sqlite:///{text}"


def mask_query(query: str) -> str:
    parts = []
    for item in query.split("&"):
        key, sep, _value = item.partition("=")
        parts.append(f"{key}=***" if sep and key.lower() in {"password", "passfile"} else item)
    return "&".join(parts)


def mask_password(text: str, url: DatabaseUrl | str | None) -> str:
    """`text` with the URL's password (if any) replaced by `***` (for exception messages
    from a driver, which may quote the DSN)."""
    if url is None:
        return text
    password = url.password if isinstance(url, DatabaseUrl) else _password_of(url)
    if password:
        text = text.replace(password, "***")
        quoted = _quoted(password)
        if quoted != password:
            text = text.replace(quoted, "***")
    return text


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _password_of(raw: str) -> str:
    try:
        return unquote(urlsplit(raw).password or "")
    except ValueError:
        return ""


def parse_database_url(raw: str) -> DatabaseUrl:
    """Parse DATABASE_URL; `DatabaseUrlError` (password-free message) when unusable."""
    text = raw.strip()
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise DatabaseUrlError("must be sqlite:///path or postgresql://user:password@host/db")
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise DatabaseUrlError("sqlite URLs have three slashes and a path: "
                                   "sqlite:///relative/file.sqlite3 or "
                                   "sqlite:////absolute/file.sqlite3")
        path = rest[1:]
        if "?" in path:
            raise DatabaseUrlError("sqlite URLs take no options (?...)")
        return DatabaseUrl("sqlite", path=unquote(path), raw=text)
    if scheme in _PG_SCHEMES:
        try:
            parts = urlsplit(text)
            port = parts.port
            user, password = unquote(parts.username or ""), unquote(parts.password or "")
            host = unquote(parts.hostname or "")
        except ValueError:
            raise DatabaseUrlError("not a valid postgresql:// URL (user:password@host:port/db; "
                                   "the port must be a number)") from None
        database = unquote(parts.path.lstrip("/"))
        if not database or "/" in database:
            raise DatabaseUrlError("postgresql URL names no database "
                                   "(postgresql://user:password@host:port/DATABASE)")
        return DatabaseUrl("postgresql", host=host, port=port, database=database, user=user,
                           password=password, query=parts.query, raw=text)
    shown = scheme if len(scheme) <= 20 else scheme[:20] + "…"
    raise DatabaseUrlError(f"unknown scheme {shown!r}: use sqlite:///path or "
                           f"postgresql://user:password@host/db")
