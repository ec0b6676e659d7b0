"""Writes validated reference rows. Upserts, so re-running an import is harmless."""

from __future__ import annotations

from bot.domain.text import compact
from bot.reference import CategoryRow, HouseRow, PlaceRow, ProvinceRow, RoutingRow
from storage.base import fetch_value
from storage.conn import Conn


async def upsert_provinces(conn: Conn, rows: list[ProvinceRow]) -> None:
    await conn.executemany("""
        INSERT INTO provinces(code, name_fa, name_en) VALUES (?, ?, ?)
        ON CONFLICT(code) DO UPDATE SET name_fa=excluded.name_fa, name_en=excluded.name_en""",
        [(r.code, r.name_fa, r.name_en) for r in rows])


async def upsert_houses(conn: Conn, rows: list[HouseRow]) -> None:
    await conn.executemany("""
        INSERT INTO houses(code, name_fa, name_en, description_fa, description_en)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(code) DO UPDATE SET name_fa=excluded.name_fa, name_en=excluded.name_en,
            description_fa=excluded.description_fa, description_en=excluded.description_en""",
        [(r.code, r.name_fa, r.name_en, r.description_fa, r.description_en) for r in rows])


async def upsert_categories(conn: Conn, rows: list[CategoryRow]) -> None:
    for r in rows:
        house = await fetch_value(conn, "SELECT id FROM houses WHERE code = ?",
                                  (r.default_house,))
        if house is None:
            raise LookupError(f"category {r.code}: unknown house {r.default_house}")
        await conn.execute("""
            INSERT INTO categories(code, name_fa, name_en, default_house_id, sort,
                                   window_hours, window_clock)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(code) DO UPDATE SET name_fa=excluded.name_fa, name_en=excluded.name_en,
                default_house_id=excluded.default_house_id, sort=excluded.sort,
                window_hours=excluded.window_hours, window_clock=excluded.window_clock""",
            (r.code, r.name_fa, r.name_en, house, r.sort, r.window_hours,
             (r.window_clock or "calendar") if r.window_hours else None))


async def upsert_places(conn: Conn, rows: list[PlaceRow]) -> int:
    """Insert or update cities and neighbourhoods. Returns the number of rows written."""
    for r in rows:
        await conn.execute("""
            INSERT INTO cities(province_id, code, name_fa, name_en)
            VALUES ((SELECT id FROM provinces WHERE code = ?), ?, ?, ?)
            ON CONFLICT(code) DO UPDATE SET name_fa=excluded.name_fa, name_en=excluded.name_en,
                province_id=excluded.province_id""",
            (r.province_code, r.city_code, r.city_fa, r.city_en))
        await conn.execute("""
            INSERT INTO neighbourhoods(city_id, code, name_fa, name_en, search_key, lat, lon,
                                       sample)
            VALUES ((SELECT id FROM cities WHERE code = ?), ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(code) DO UPDATE SET city_id=excluded.city_id, name_fa=excluded.name_fa,
                name_en=excluded.name_en, search_key=excluded.search_key, lat=excluded.lat,
                lon=excluded.lon, sample=excluded.sample""",
            (r.city_code, r.neighbourhood_code, r.neighbourhood_fa, r.neighbourhood_en,
             compact(r.neighbourhood_fa), r.lat, r.lon, int(r.sample)))
    return len(rows)


async def replace_routing(conn: Conn, rows: list[RoutingRow]) -> None:
    await conn.execute("DELETE FROM routing_overrides")
    for r in rows:
        await conn.execute("""
            INSERT INTO routing_overrides(neighbourhood_id, category_id, house_id)
            SELECT n.id, c.id, h.id FROM neighbourhoods n, categories c, houses h
            WHERE n.code = ? AND c.code = ? AND h.code = ?""",
            (r.neighbourhood_code.upper(), r.category_code, r.house_code))
