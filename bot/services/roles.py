"""Who may see and act on which tickets, and onboarding by one-time invites.

A person's scope is a list of `Area`s (house × neighbourhoods) derived from their roles; in a
bound group chat it is the group's binding intersected with the member's own areas: acting
in a group needs both the group's binding and the actor's own role to cover the ticket.
A binding ends when the person who made it loses that role (`storage.group_bindings`). Every
ticket lookup goes through the scope, so a ticket outside it looks exactly like no ticket.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from bot.deps import Deps
from bot.domain.models import Role
from bot.i18n import N_, Translator, localized
from bot.services.errors import Refused
from storage import group_bindings, invites, people, places
from storage.conn import Conn
from storage.staff_queries import Area, neighbourhood_ids

INVITE_DAYS = 7
STAFF_ROLES = ("staff", "supervisor")


@dataclass(frozen=True)
class Scope:
    """What one person may reach right now (in this chat)."""

    person_id: int
    role: str                        # for the audit trail: admin | supervisor | staff | mayor
    staff_areas: list[Area] = field(default_factory=list)
    mayor_areas: list[Area] = field(default_factory=list)
    house_ids: list[int] = field(default_factory=list)   # houses worked for; admin: []
    admin: bool = False

    @property
    def areas(self) -> list[Area]:
        return self.staff_areas + self.mayor_areas

    @property
    def is_staff(self) -> bool:
        return bool(self.staff_areas)

    @property
    def is_mayor(self) -> bool:
        return bool(self.mayor_areas)


def overlap(a: tuple[int, ...] | None, b: tuple[int, ...] | None) -> tuple[int, ...] | None:
    """Neighbourhoods in both (None = everywhere)."""
    if a is None:
        return b
    if b is None:
        return a
    return tuple(sorted(set(a) & set(b)))


async def _role_areas(conn: Conn, roles: list[Role]) -> list[Area]:
    return [Area(r.house_id, await neighbourhood_ids(conn, r.scope_kind, r.scope_id))
            for r in roles]


async def scope_for(conn: Conn, person_id: int, roles: list[Role], *,
                    chat_id: int, group: bool) -> Scope:
    """Admins reach everything; in a group only the group's binding (for the person's houses)."""
    if any(r.role == "admin" for r in roles):
        everything = [Area(None, None)]
        return Scope(person_id, "admin", everything, everything, admin=True)
    staff_roles = [r for r in roles if r.role in STAFF_ROLES]
    houses = sorted({r.house_id for r in staff_roles if r.house_id is not None})
    role = ("supervisor" if any(r.role == "supervisor" for r in staff_roles) else
            "staff" if staff_roles else "mayor")
    if group:
        # The group's binding AND the member's own area: a member acts in a group only on
        # tickets their own role covers (welfare staff of ISL02 cannot take an ISL01 ticket
        # in a welfare/ISL01 group).
        own = await _role_areas(conn, staff_roles)
        areas = []
        for b in await group_bindings.bindings(conn, chat_id):
            bound = await neighbourhood_ids(conn, b.scope_kind, b.scope_id)
            for mine in own:
                if mine.house_id == b.house_id:
                    common = overlap(bound, mine.neighbourhood_ids)
                    if common is None or common:
                        areas.append(Area(b.house_id, common))
        return Scope(person_id, role, areas, [], houses)
    mayors = [Area(None, await neighbourhood_ids(conn, r.scope_kind, r.scope_id))
              for r in roles if r.role == "mayor"]
    return Scope(person_id, role, await _role_areas(conn, staff_roles), mayors, houses)


# ---------------------------------------------------------------------------- invites

class InviteError(Refused):
    """Bad invite request."""


INVITE_USAGE = N_(
    "How to invite:\n"
    "/invite mayor ISL01,ISL02 — mayor of these neighbourhoods\n"
    "/invite staff welfare ISL01,ISL02 — staff of a house for neighbourhoods\n"
    "/invite staff relief city:islamshahr — staff of a house for a whole city\n"
    "/invite supervisor ehsan province:tehran — supervisor for a city or province\n"
    "Houses: {houses}")


async def house_codes(conn: Conn) -> str:
    """The codes of the houses table (from data/houses.csv), for a Refused message."""
    return ", ".join(h.code for h in await places.houses(conn))


@dataclass(frozen=True)
class InviteSpec:
    role: str
    house_id: int | None
    scope_kind: str
    scope_ids: list[int]


async def parse_invite(conn: Conn, role: str, house: str | None,
                       area: str) -> InviteSpec:
    """Validate role, house and area (`CODE1,CODE2`, `city:CODE`, `province:CODE`, `all`)."""
    role = role.lower().strip()
    if role not in ("mayor", "staff", "supervisor"):
        raise InviteError(N_("Unknown role «{role}». Use mayor, staff or supervisor."),
                          role=role)
    house_id = None
    if role != "mayor":
        found = await places.house_by_code(conn, house or "")
        if found is None:
            raise InviteError(N_("Unknown house «{house}». Use one of: {houses}"),
                              house=house or "", houses=await house_codes(conn))
        house_id = found.id
    area = area.strip()
    kind, _, value = area.partition(":")
    kind = kind.lower()
    if kind in ("city", "province"):
        if role == "mayor" or (role == "staff" and kind == "province"):
            raise InviteError(N_("A {role} cannot cover a whole {area}."), role=role,
                              area=kind)
        getter = invites.city_id if kind == "city" else invites.province_id
        found_id = await getter(conn, value)
        if found_id is None:
            raise InviteError(N_("Unknown place «{code}»."), code=value)
        return InviteSpec(role, house_id, kind, [found_id])
    if role == "supervisor":
        raise InviteError(N_("A supervisor covers a city (city:CODE) or a province "
                             "(province:CODE)."))
    codes = [c.strip().upper() for c in area.replace("،", ",").split(",") if c.strip()]
    if not codes:
        raise InviteError(INVITE_USAGE, houses=await house_codes(conn))
    ids = []
    for code in codes:
        n = await places.neighbourhood_by_code(conn, code)
        if n is None:
            raise InviteError(N_("Unknown neighbourhood code «{code}»."), code=code)
        ids.append(n.id)
    return InviteSpec(role, house_id, "neighbourhood", ids)


async def create_invite(conn: Conn, deps: Deps, spec: InviteSpec, *,
                        created_by: int | None, days: int = INVITE_DAYS) -> invites.Invite:
    now = deps.clock.now()
    return await invites.create(conn, code=secrets.token_urlsafe(12), role=spec.role,
                                house_id=spec.house_id, scope_kind=spec.scope_kind,
                                scope_ids=spec.scope_ids, created_by=created_by, now=now,
                                expires_at=now + timedelta(days=days))


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start=inv_{code}"


class Consumed(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


async def consume_invite(conn: Conn, deps: Deps, code: str, person_id: int
                         ) -> tuple[Consumed, invites.Invite | None]:
    """Turn a one-time invite into roles, inside the caller's transaction."""
    now = deps.clock.now()
    invite = await invites.get(conn, code)
    if invite is None:
        return Consumed.UNKNOWN, None
    if invite.used_by is not None:
        return Consumed.USED, invite
    if invite.expires_at <= now:
        return Consumed.EXPIRED, invite
    if not await invites.mark_used(conn, code, person_id, now):
        return Consumed.USED, invite
    scope_ids: list[int | None] = list(invite.scope_ids) or [None]
    for scope_id in scope_ids:
        if not await invites.has_role(conn, person_id, invite.role, invite.house_id,
                                      invite.scope_kind, scope_id):
            await people.add_role(conn, person_id, invite.role, house_id=invite.house_id,
                                  scope_kind=invite.scope_kind, scope_id=scope_id,
                                  created_by=invite.created_by, now=now)
    return Consumed.OK, invite


async def describe_role(conn: Conn, tr: Translator, role: str,
                        house_id: int | None, scope_kind: str, scope_id: int | None) -> str:
    """«staff · Welfare House · Qaemiyeh» in the reader's language."""
    names = {"mayor": tr._("mayor"), "staff": tr._("staff"), "supervisor": tr._("supervisor"),
             "admin": tr._("admin")}
    parts = [names.get(role, role)]
    if house_id is not None:
        house = await places.house(conn, house_id)
        if house:
            parts.append(localized(tr, house.name_fa, house.name_en))
    area = await invites.area_name(conn, scope_kind, scope_id)
    parts.append(tr._("everywhere") if area is None else localized(tr, *area))
    return " · ".join(parts)
