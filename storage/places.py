"""Places, houses, categories and the routing table."""

from __future__ import annotations

from bot.domain.models import Category, City, House, Neighbourhood, Province
from storage.base import fetch_all, fetch_one, fetch_value, to_model, to_models
from storage.conn import Conn

_NEIGHBOURHOOD = """
SELECT n.id, n.city_id, n.code, n.name_fa, n.name_en, n.lat, n.lon, n.sample,
       c.name_fa AS city_fa, c.name_en AS city_en, c.province_id
FROM neighbourhoods n JOIN cities c ON c.id = n.city_id
"""


async def provinces(conn: Conn) -> list[Province]:
    """Provinces that have at least one neighbourhood, in Persian alphabetical order."""
    rows = await fetch_all(conn, """
        SELECT p.* FROM provinces p
        WHERE EXISTS (SELECT 1 FROM cities c JOIN neighbourhoods n ON n.city_id = c.id
                      WHERE c.province_id = p.id)
        ORDER BY p.name_fa""")
    return to_models(Province, rows)


async def province(conn: Conn, province_id: int) -> Province | None:
    return to_model(Province, await fetch_one(conn, "SELECT * FROM provinces WHERE id=?",
                                              (province_id,)))


async def cities(conn: Conn, province_id: int) -> list[City]:
    rows = await fetch_all(conn, """
        SELECT c.* FROM cities c WHERE c.province_id = ?
        AND EXISTS (SELECT 1 FROM neighbourhoods n WHERE n.city_id = c.id)
        ORDER BY c.name_fa""", (province_id,))
    return to_models(City, rows)


async def city(conn: Conn, city_id: int) -> City | None:
    return to_model(City, await fetch_one(conn, "SELECT * FROM cities WHERE id=?", (city_id,)))


async def neighbourhoods(conn: Conn, city_id: int) -> list[Neighbourhood]:
    rows = await fetch_all(conn, _NEIGHBOURHOOD + " WHERE n.city_id = ? ORDER BY n.name_fa",
                           (city_id,))
    return to_models(Neighbourhood, rows)


async def neighbourhood(conn: Conn, neighbourhood_id: int
                        ) -> Neighbourhood | None:
    return to_model(Neighbourhood, await fetch_one(conn, _NEIGHBOURHOOD + " WHERE n.id = ?",
                                                   (neighbourhood_id,)))


async def neighbourhood_by_code(conn: Conn, code: str) -> Neighbourhood | None:
    return to_model(Neighbourhood, await fetch_one(conn, _NEIGHBOURHOOD + " WHERE n.code = ?",
                                                   (code.upper(),)))


async def neighbourhood_search_keys(conn: Conn) -> list[tuple[int, str]]:
    """(id, normalised name) of every neighbourhood, for fuzzy search in Python."""
    rows = await fetch_all(conn, "SELECT id, search_key FROM neighbourhoods")
    return [(int(r[0]), str(r[1])) for r in rows]


async def place_names(conn: Conn
                      ) -> list[tuple[int, tuple[str, str], tuple[str, str], tuple[str, str]]]:
    """(id, neighbourhood fa/en, city fa/en, province fa/en) of every neighbourhood, in the
    order of the data file, for place search in Python (`bot.domain.text.rank_places`)."""
    rows = await fetch_all(conn, """
        SELECT n.id, n.name_fa, n.name_en, c.name_fa, c.name_en, p.name_fa, p.name_en
        FROM neighbourhoods n JOIN cities c ON c.id = n.city_id
        JOIN provinces p ON p.id = c.province_id ORDER BY n.id""")
    return [(int(r[0]), (str(r[1]), str(r[2] or "")), (str(r[3]), str(r[4] or "")),
             (str(r[5]), str(r[6] or ""))) for r in rows]


async def neighbourhoods_with_coordinates(conn: Conn) -> list[Neighbourhood]:
    rows = await fetch_all(conn, _NEIGHBOURHOOD + " WHERE n.lat IS NOT NULL AND n.lon IS NOT NULL")
    return to_models(Neighbourhood, rows)


async def houses(conn: Conn) -> list[House]:
    return to_models(House, await fetch_all(conn, "SELECT * FROM houses ORDER BY id"))


async def house(conn: Conn, house_id: int) -> House | None:
    return to_model(House, await fetch_one(conn, "SELECT * FROM houses WHERE id=?", (house_id,)))


async def house_by_code(conn: Conn, code: str) -> House | None:
    return to_model(House, await fetch_one(conn, "SELECT * FROM houses WHERE code=?",
                                           (code.lower(),)))


async def categories(conn: Conn) -> list[Category]:
    return to_models(Category, await fetch_all(conn, "SELECT * FROM categories ORDER BY sort, id"))


async def category(conn: Conn, category_id: int) -> Category | None:
    return to_model(Category, await fetch_one(conn, "SELECT * FROM categories WHERE id=?",
                                              (category_id,)))


async def category_by_code(conn: Conn, code: str) -> Category | None:
    return to_model(Category, await fetch_one(conn, "SELECT * FROM categories WHERE code=?",
                                              (code,)))


async def house_for(conn: Conn, neighbourhood_id: int, category_id: int) -> int:
    """The house that handles `category` in `neighbourhood`: override first, else default."""
    override = await fetch_value(conn, """SELECT house_id FROM routing_overrides
        WHERE neighbourhood_id = ? AND category_id = ?""", (neighbourhood_id, category_id))
    if override is not None:
        return int(override)
    default = await fetch_value(conn, "SELECT default_house_id FROM categories WHERE id = ?",
                                (category_id,))
    if default is None:
        raise LookupError(f"unknown category {category_id}")
    return int(default)


async def count_neighbourhoods(conn: Conn) -> int:
    return int(await fetch_value(conn, "SELECT count(*) FROM neighbourhoods") or 0)
