"""Admin use-cases: invites, the list of roles, revoking, binding a group chat."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.deps import Deps
from bot.domain.models import Role
from bot.i18n import Translator
from bot.services import roles
from storage import group_bindings, invites, people

log = logging.getLogger(__name__)


async def new_invite(deps: Deps, role: str, house: str | None, area: str, *,
                     created_by: int | None, days: int = roles.INVITE_DAYS) -> invites.Invite:
    async with deps.db.tx() as conn:
        spec = await roles.parse_invite(conn, role, house, area)
        return await roles.create_invite(conn, deps, spec, created_by=created_by, days=days)


async def accept_invite(deps: Deps, tr: Translator, code: str, person_id: int
                        ) -> tuple[roles.Consumed, list[str]]:
    """Consume the invite; returns the outcome and the new roles described for the person."""
    async with deps.db.tx() as conn:
        result, invite = await roles.consume_invite(conn, deps, code, person_id)
        described = []
        if result is roles.Consumed.OK and invite is not None:
            scope_ids: list[int | None] = list(invite.scope_ids) or [None]
            for scope_id in scope_ids:
                described.append(await roles.describe_role(
                    conn, tr, invite.role, invite.house_id, invite.scope_kind, scope_id))
        return result, described


@dataclass(frozen=True)
class RoleLine:
    id: int
    who: str
    what: str


async def role_lines(deps: Deps, tr: Translator) -> list[RoleLine]:
    async with deps.db.read() as conn:
        rows = await invites.active_roles(conn)
        return [RoleLine(r.id, r.first_name + (f" @{r.username}" if r.username else "")
                         + f" ({r.person_id})",
                         await roles.describe_role(conn, tr, r.role, r.house_id, r.scope_kind,
                                                   r.scope_id))
                for r in rows]


async def revoke(deps: Deps, role_id: int) -> Role | None:
    """Take a role away; groups that person bound for it stop receiving its tickets (in the
    same transaction)."""
    async with deps.db.tx() as conn:
        role = await invites.role(conn, role_id)
        if role is None or not await invites.revoke(conn, role_id, deps.clock.now()):
            return None
        for ended in await group_bindings.end_orphaned(conn):
            log.info("group %s unbound from house %s: its binder lost the role",
                     ended.chat_id, ended.house_id)
        return role


async def end_orphaned_bindings(deps: Deps) -> int:
    """At start: bindings left by roles revoked before bindings ended with them."""
    async with deps.db.tx() as conn:
        ended = await group_bindings.end_orphaned(conn)
    if ended:
        log.warning("%s group bindings ended: their binders no longer hold the role",
                    len(ended))
    return len(ended)


@dataclass(frozen=True)
class BindingLine:
    chat_id: int
    what: str
    bound_by: int


async def binding_lines(deps: Deps, tr: Translator) -> list[BindingLine]:
    """Every bound group: which house and area, and who bound it (for /roles)."""
    async with deps.db.read() as conn:
        return [BindingLine(b.chat_id, await roles.describe_role(
                    conn, tr, "staff", b.house_id, b.scope_kind, b.scope_id), b.bound_by)
                for b in await group_bindings.all_bindings(conn)]


async def bind_group(deps: Deps, tr: Translator, chat_id: int, person_id: int,
                     user_roles: list[Role]) -> list[str]:
    """Bind the group to each house+area the person holds as staff or supervisor."""
    held = [r for r in user_roles if r.role in roles.STAFF_ROLES and r.house_id is not None]
    bound = []
    async with deps.db.tx() as conn:
        for r in held:
            assert r.house_id is not None
            await group_bindings.bind(conn, chat_id=chat_id, house_id=r.house_id,
                               scope_kind=r.scope_kind, scope_id=r.scope_id,
                               bound_by=person_id, now=deps.clock.now())
            bound.append(await roles.describe_role(conn, tr, r.role, r.house_id, r.scope_kind,
                                                   r.scope_id))
    return bound


async def unbind_group(deps: Deps, chat_id: int, user_roles: list[Role]) -> int:
    houses = sorted({r.house_id for r in user_roles
                     if r.role in roles.STAFF_ROLES and r.house_id is not None})
    if not houses:
        return 0
    async with deps.db.tx() as conn:
        return await group_bindings.unbind(conn, chat_id, houses)


@dataclass(frozen=True)
class MenuOwner:
    """What a person's private command menu depends on: the roles they hold now (admins from
    the settings included) and the language they chose (None: not chosen)."""

    roles: frozenset[str]
    locale: str | None


async def menu_owner(deps: Deps, person_id: int) -> MenuOwner:
    async with deps.db.read() as conn:
        person = await people.get(conn, person_id)
        held = {r.role for r in await people.active_roles(conn, person_id)}
    if person_id in deps.settings.admin_ids:
        held.add("admin")
    return MenuOwner(frozenset(held), person.locale if person else None)


async def people_with_roles(deps: Deps) -> list[int]:
    async with deps.db.read() as conn:
        return sorted({r.person_id for r in await invites.active_roles(conn)})
