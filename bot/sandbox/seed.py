"""The sandbox's cast: one person for every role around a sample neighbourhood.

Roles are written with storage functions only (no feature code), so the sandbox works the
same whichever role/invite features exist. Seeding is idempotent: the sandbox re-runs it on
every start against its own database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from storage import group_bindings, people, places
from storage.conn import Conn

SAMPLE_NEIGHBOURHOOD = "ISL01"          # قائمیه, Islamshahr (data/places.csv)
GROUP_HOUSE = "welfare"                 # the staff group chat belongs to this house
SUPERVISOR_HOUSE = "welfare"
HOUSES = ("welfare", "relief", "ehsan", "redcrescent")

RESIDENT_FIRST = 7001
RESIDENT_LAST = 7099
MAYOR = 7101
STAFF = {code: 7201 + n for n, code in enumerate(HOUSES)}
SUPERVISOR = 7301
ADMIN = 7401
GROUP_CHAT = -1007001

RESIDENT_NAMES = ("زهرا", "علی", "مریم", "حسین", "فاطمه", "رضا", "نرگس", "محمد")
STAFF_NAMES = {"welfare": "سمیرا احمدی", "relief": "مهدی رضایی", "ehsan": "لیلا موسوی",
               "redcrescent": "امیر حسینی"}
MAYOR_NAME = "حمید کریمی"
SUPERVISOR_NAME = "پروین نادری"
ADMIN_NAME = "مدیر سامانه"

# Sample values the page uses for "share contact" / "share location" buttons.
SAMPLE_PHONE = "+989121234567"
SAMPLE_LOCATION = (35.5642, 51.2250)   # inside ISL01


@dataclass(frozen=True)
class SandboxPerson:
    """One entry of the page's side list: who acts (user_id) in which chat (chat_id)."""

    key: str
    kind: str            # resident | mayor | staff | supervisor | admin | group
    user_id: int
    chat_id: int
    name: str
    role_fa: str
    role_en: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def resident_name(user_id: int) -> str:
    index = user_id - RESIDENT_FIRST
    if index < len(RESIDENT_NAMES):
        return RESIDENT_NAMES[index]
    return f"ساکن {index + 1}"


def resident(user_id: int) -> SandboxPerson:
    return SandboxPerson(f"resident-{user_id}", "resident", user_id, user_id,
                         resident_name(user_id), "ساکن محله", "Resident")


async def _ensure_role(conn: Conn, person_id: int, role: str, *,
                       house_id: int | None, scope_kind: str, scope_id: int | None,
                       now: datetime) -> None:
    for existing in await people.active_roles(conn, person_id):
        if (existing.role, existing.house_id, existing.scope_kind, existing.scope_id) == (
                role, house_id, scope_kind, scope_id):
            return
    await people.add_role(conn, person_id, role, house_id=house_id, scope_kind=scope_kind,
                          scope_id=scope_id, created_by=ADMIN, now=now)


async def seed(conn: Conn, now: datetime) -> list[SandboxPerson]:
    """Create (or confirm) the cast and return it in side-list order. Needs reference data."""
    hood = await places.neighbourhood_by_code(conn, SAMPLE_NEIGHBOURHOOD)
    if hood is None:
        raise RuntimeError(f"sample neighbourhood {SAMPLE_NEIGHBOURHOOD} is not loaded")
    province = await places.province(conn, hood.province_id)
    province_fa = province.name_fa if province else ""
    province_en = province.name_en if province else ""
    houses = {code: await places.house_by_code(conn, code) for code in HOUSES}

    cast: list[SandboxPerson] = []
    residents = await people.ids_between(conn, RESIDENT_FIRST, RESIDENT_LAST) or [RESIDENT_FIRST]
    for user_id in residents:
        await people.ensure_person(conn, user_id, now, resident_name(user_id))
        cast.append(resident(user_id))

    await people.ensure_person(conn, MAYOR, now, MAYOR_NAME)
    await _ensure_role(conn, MAYOR, "mayor", house_id=None, scope_kind="neighbourhood",
                       scope_id=hood.id, now=now)
    cast.append(SandboxPerson("mayor", "mayor", MAYOR, MAYOR, MAYOR_NAME,
                              f"شهردار محله {hood.name_fa}", f"Mayor of {hood.name_en}"))

    for code in HOUSES:
        house = houses[code]
        if house is None:
            raise RuntimeError(f"house {code} is not loaded")
        await people.ensure_person(conn, STAFF[code], now, STAFF_NAMES[code])
        await _ensure_role(conn, STAFF[code], "staff", house_id=house.id, scope_kind="city",
                           scope_id=hood.city_id, now=now)
        cast.append(SandboxPerson(f"staff-{code}", "staff", STAFF[code], STAFF[code],
                                  STAFF_NAMES[code], f"کارمند {house.name_fa} — {hood.city_fa}",
                                  f"{house.name_en} staff, {hood.city_en}"))

    supervised = houses[SUPERVISOR_HOUSE]
    assert supervised is not None
    await people.ensure_person(conn, SUPERVISOR, now, SUPERVISOR_NAME)
    await _ensure_role(conn, SUPERVISOR, "supervisor", house_id=supervised.id,
                       scope_kind="province", scope_id=hood.province_id, now=now)
    cast.append(SandboxPerson("supervisor", "supervisor", SUPERVISOR, SUPERVISOR,
                              SUPERVISOR_NAME, f"ناظر {supervised.name_fa} — استان {province_fa}",
                              f"{supervised.name_en} supervisor, {province_en}"))

    await people.ensure_person(conn, ADMIN, now, ADMIN_NAME)
    await _ensure_role(conn, ADMIN, "admin", house_id=None, scope_kind="all", scope_id=None,
                       now=now)
    cast.append(SandboxPerson("admin", "admin", ADMIN, ADMIN, ADMIN_NAME, "مدیر سامانه",
                              "Admin"))

    group_house = houses[GROUP_HOUSE]
    assert group_house is not None
    await group_bindings.bind(conn, chat_id=GROUP_CHAT, house_id=group_house.id,
                              scope_kind="city", scope_id=hood.city_id, bound_by=ADMIN, now=now)
    cast.append(SandboxPerson("group", "group", STAFF[GROUP_HOUSE], GROUP_CHAT,
                              group_title(group_house.name_fa),
                              f"گروه کارکنان؛ شما در آن {STAFF_NAMES[GROUP_HOUSE]} هستید",
                              f"{group_house.name_en} staff group"))
    return cast


def group_title(house_fa: str) -> str:
    return f"گروه کارکنان {house_fa}"
