"""The connection and row types every repository and use case is written against.

One name for them, so the backend behind `Database` can change without touching the
repositories' and services' signatures."""

from __future__ import annotations

import aiosqlite

Conn = aiosqlite.Connection
Row = aiosqlite.Row

__all__ = ["Conn", "Row"]
