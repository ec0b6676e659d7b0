"""Loads the reference data from `data/` at start (idempotent) and imports place lists."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.reference import (
    CategoryRow,
    HouseRow,
    PlaceRow,
    ProvinceRow,
    RoutingRow,
    check_places,
    data_file,
    read_rows,
)
from storage import importer, places
from storage.db import Database

log = logging.getLogger(__name__)


async def load_reference(db: Database) -> None:
    """Provinces, houses, categories and routing always; sample places into an empty database."""
    provinces = read_rows(data_file("provinces.csv"), ProvinceRow)
    houses = read_rows(data_file("houses.csv"), HouseRow)
    categories = read_rows(data_file("categories.csv"), CategoryRow)
    routing_path = data_file("routing_overrides.csv")
    routing = read_rows(routing_path, RoutingRow) if routing_path.exists() else []
    async with db.tx() as conn:
        await importer.upsert_provinces(conn, provinces)
        await importer.upsert_houses(conn, houses)
        await importer.upsert_categories(conn, categories)
        if await places.count_neighbourhoods(conn) == 0:
            sample = read_rows(data_file("places.csv"), PlaceRow)
            check_places(data_file("places.csv"), sample, {p.code for p in provinces})
            count = await importer.upsert_places(conn, sample)
            log.info("loaded %d sample neighbourhoods", count)
        await importer.replace_routing(conn, routing)


async def import_places(db: Database, path: Path) -> int:
    """Validate the whole file, then write it in one transaction. Returns rows imported."""
    provinces = read_rows(data_file("provinces.csv"), ProvinceRow)
    rows = read_rows(path, PlaceRow)
    check_places(path, rows, {p.code for p in provinces})
    async with db.tx() as conn:
        await importer.upsert_provinces(conn, provinces)
        return await importer.upsert_places(conn, rows)
