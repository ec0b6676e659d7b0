"""The 72-hour promise at work: the sweep's decisions and the daily digest (use cases).

The sweep reads only tickets whose `sla_next_at` has come (partial index `tickets_sla`), asks
the pure clock (`bot.domain.sla.due_actions`) what to do, and records each action in
`sla_actions` together with its event and its notices (typed intents, rendered when they
are sent): one transaction per batch of due tickets, one savepoint per ticket (a failing
ticket rolls back alone). The primary key (ticket, window, action) plus the outbox
idempotency keys make every reminder and escalation happen exactly once per window, also if
the process restarts mid-sweep. The JobQueue jobs that run these live in `bot.sla`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.deps import Deps
from bot.domain import sla
from bot.domain.models import Person, Ticket
from bot.domain.notices import Notice, NoticeKind, digest_day, when
from bot.domain.sla import ClockKind
from bot.domain.tickets import Action, Status
from bot.services import windows
from bot.services.tickets import SYSTEM, apply
from storage import people, roles_query, sla_queries, updates
from storage.conn import Conn

log = logging.getLogger(__name__)

SWEEP_BATCH = 200
MAX_BATCHES = 10
RETRY_BROKEN = timedelta(minutes=5)


async def sweep(deps: Deps) -> int:
    """One tick: handle every ticket whose SLA moment has come. Never raises; returns how many
    tickets were looked at."""
    handled = 0
    async with deps.sla_lock:
        now = deps.clock.now()
        for _ in range(MAX_BATCHES):
            try:
                count = await _sweep_batch(deps, now)
            except Exception:
                log.exception("SLA sweep could not handle a batch of due tickets")
                return handled
            handled += count
            if count < SWEEP_BATCH:
                break
    return handled


async def _sweep_batch(deps: Deps, now: datetime) -> int:
    """Up to SWEEP_BATCH due tickets in ONE transaction, read with two queries.

    Every statement is a thread round trip in aiosqlite, so the common case (nothing fails)
    runs the batch without a savepoint per ticket. If any ticket fails, that transaction rolls
    back and the batch runs again with a SAVEPOINT per ticket: the broken ticket rolls back
    alone (and is retried after RETRY_BROKEN) while the others commit."""
    try:
        return await _run_batch(deps, now, isolate=False)
    except Exception as exc:
        log.info("SLA batch failed (%r); handling it ticket by ticket", exc)
    return await _run_batch(deps, now, isolate=True)


async def _run_batch(deps: Deps, now: datetime, *, isolate: bool) -> int:
    async with deps.db.tx() as conn:
        tickets = await sla_queries.due_tickets(conn, now, SWEEP_BATCH)
        done = await sla_queries.done_actions_many(conn, tickets)
        cache = _BatchCache()
        await cache.preload_people(conn, [t.assignee_id for t in tickets if t.assignee_id])
        writes = _Writes()
        for ticket in tickets:
            if isolate:
                await _handle_isolated(conn, deps, cache, ticket, done[ticket.id], now, writes)
            else:
                await _handle(conn, deps, cache, ticket, done[ticket.id], now, writes)
        await sla_queries.record_actions(conn, writes.actions, now)
        await deps.outbox.enqueue_many(conn, writes.notices)
    return len(tickets)


@dataclass
class _Writes:
    """The batch's sla_actions and notices, written with one statement each at the end of its
    transaction (rows of a ticket that failed are never added)."""

    actions: list[tuple[int, int, str]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


async def _handle_isolated(conn: Conn, deps: Deps, cache: _BatchCache,
                           ticket: Ticket, done: dict[str, datetime], now: datetime,
                           writes: _Writes) -> None:
    mine = _Writes()
    await conn.execute("SAVEPOINT sla_ticket")
    try:
        await _handle(conn, deps, cache, ticket, done, now, mine)
    except Exception:
        log.exception("SLA sweep failed on ticket %s; will retry later", ticket.id)
        await conn.execute("ROLLBACK TO sla_ticket")
        await conn.execute("RELEASE sla_ticket")
        try:
            await sla_queries.set_next_check(conn, ticket.id, now + RETRY_BROKEN)
        except Exception:
            log.exception("SLA sweep could not postpone ticket %s", ticket.id)
    else:
        await conn.execute("RELEASE sla_ticket")
        writes.actions.extend(mine.actions)
        writes.notices.extend(mine.notices)


async def _handle(conn: Conn, deps: Deps, cache: _BatchCache, ticket: Ticket,
                  done: dict[str, datetime], now: datetime,
                  writes: _Writes) -> None:
    """Take the ticket's due actions. `done` was read in this transaction and the plan never
    repeats a done action; what they write goes to `writes` (written once per batch)."""
    settings = deps.settings
    # The ticket's own window: its clock (office time in office mode) and fitted reminders.
    plan = sla.due_actions(
        ticket.due_at, now, paused_at=ticket.paused_at,
        first_response_at=ticket.first_response_at, closed=ticket.status is Status.CLOSED,
        reminder_hours=windows.ticket_reminders(deps, ticket),
        second_escalation_hours=settings.second_escalation_hours, done=done,
        span=windows.span(deps, ticket))
    next_set = False
    for action in plan.actions:
        writes.actions.append((ticket.id, ticket.window_no, action))
        recipients = await _perform(conn, deps, cache, writes.notices, ticket, action)
        # The batch read `ticket` in this transaction, so apply may derive the new row; the
        # next check rides along in the same UPDATE.
        ticket, _ = await apply(conn, deps, ticket, Action.SLA, SYSTEM,
                                public=action == sla.BREACH,
                                details={"sla": action, "window": ticket.window_no,
                                         "to": recipients},
                                derive_row=True, sla_next_at=plan.next_at)
        next_set = True
    if plan.skipped:
        log.info("ticket %s: skipped stale SLA moments %s", ticket.id, plan.skipped)
    if not next_set:
        await sla_queries.set_next_check(conn, ticket.id, plan.next_at)


@dataclass
class _BatchCache:
    """Recipients and people read once per batch instead of once per ticket.

    Valid for one batch transaction only: it holds the database lock, and the sweep itself
    never changes roles, bindings or people."""

    people: dict[int, Person | None] = field(default_factory=dict)
    roles: dict[tuple[str, int, int | None], list[int]] = field(default_factory=dict)
    groups: dict[tuple[int, int], list[int]] = field(default_factory=dict)

    async def preload_people(self, conn: Conn, ids: list[int]) -> None:
        wanted = set(ids) - set(self.people)
        if not wanted:
            return
        found = await people.get_many(conn, wanted)
        for person_id in wanted:
            self.people[person_id] = found.get(person_id)

    async def person(self, conn: Conn, person_id: int) -> Person | None:
        if person_id not in self.people:
            self.people[person_id] = await people.get(conn, person_id)
        return self.people[person_id]

    async def people_with_role(self, conn: Conn, role: str,
                               neighbourhood_id: int, house_id: int | None = None
                               ) -> list[int]:
        key = (role, neighbourhood_id, house_id)
        if key not in self.roles:
            self.roles[key] = await roles_query.people_with_role(conn, role, neighbourhood_id,
                                                                 house_id)
        return list(self.roles[key])

    async def bound_groups(self, conn: Conn, house_id: int,
                           neighbourhood_id: int) -> list[int]:
        key = (house_id, neighbourhood_id)
        if key not in self.groups:
            self.groups[key] = await roles_query.bound_groups(conn, house_id, neighbourhood_id)
        return list(self.groups[key])


def _key(ticket: Ticket, action: str, chat_id: int) -> str:
    return f"sla:{ticket.id}:{ticket.window_no}:{action}:{chat_id}"


async def _perform(conn: Conn, deps: Deps, cache: _BatchCache,
                   out: list[Notice], ticket: Ticket, action: str) -> list[int]:
    """Queue the notices for one action into `out`; returns who was told."""

    # Quiet hours: reminders and non-urgent escalations to staff and mayors wait for the end
    # of the night (each keeps its own message; the outbox paces them); urgent ones do not.
    held = _quiet_until(deps, deps.clock.now())

    def tell(recipients: list[int], kind: str, notice: NoticeKind, args: dict[str, Any], *,
             hold: bool = True) -> None:
        for chat_id in recipients:
            out.append(Notice(notice, chat_id, _key(ticket, action, chat_id), kind,
                              ticket.id, args, not_before=held if hold else None))

    if action.startswith(sla.REMIND + "_"):
        recipients = await _reminder_recipients(conn, deps, cache, ticket)
        tell(recipients, "sla_reminder", NoticeKind.SLA_REMINDER,
             await _reminder_args(conn, deps, cache, ticket))
        return recipients
    window = windows.of_ticket(deps, ticket)
    hours = window.hours
    office = window.clock is ClockKind.OFFICE
    if action == sla.BREACH:
        recipients = await _breach_recipients(conn, deps, cache, ticket)
        tell(recipients, "sla_escalation", NoticeKind.SLA_ESCALATION,
             await _escalation_args(conn, deps, cache, ticket, hours, second=False),
             hold=not ticket.urgent)
        # Residents are never kept waiting (at night the outbox sends it without a sound);
        # they are told when they hear from us next (the second escalation).
        again = windows.span(deps, ticket).add(
            deps.clock.now(), timedelta(hours=deps.settings.second_escalation_hours))
        out.append(Notice(NoticeKind.SLA_RESIDENT_LATE, ticket.resident_id,
                          _key(ticket, action, ticket.resident_id), "sla_late", ticket.id,
                          {"code": ticket.code, "hours": hours, "office": office,
                           "house_id": ticket.house_id, "next": when(again)}))
        return [*recipients, ticket.resident_id]
    if action == sla.ESCALATE2:
        recipients = await _second_recipients(conn, deps, cache, ticket)
        tell(recipients, "sla_escalation", NoticeKind.SLA_ESCALATION,
             await _escalation_args(conn, deps, cache, ticket, hours, second=True),
             hold=not ticket.urgent)
        out.append(Notice(NoticeKind.SLA_RESIDENT_LATE, ticket.resident_id,
                          _key(ticket, action, ticket.resident_id), "sla_late", ticket.id,
                          {"code": ticket.code, "hours": hours, "second": True}))
        return [*recipients, ticket.resident_id]
    raise ValueError(f"unknown SLA action {action}")


async def _house_team(conn: Conn, cache: _BatchCache, ticket: Ticket
                      ) -> list[int]:
    staff = await cache.people_with_role(conn, "staff", ticket.neighbourhood_id, ticket.house_id)
    groups = await cache.bound_groups(conn, ticket.house_id, ticket.neighbourhood_id)
    return [*staff, *groups]


async def _reminder_recipients(conn: Conn, deps: Deps, cache: _BatchCache,
                               ticket: Ticket) -> list[int]:
    """The assignee; nobody took it: the house team of the area; no team: mayor/admin chat."""
    if ticket.assignee_id is not None:
        return [ticket.assignee_id]
    team = await _house_team(conn, cache, ticket)
    if team:
        return list(dict.fromkeys(team))
    mayors = await cache.people_with_role(conn, "mayor", ticket.neighbourhood_id)
    if mayors:
        return mayors
    admin = deps.settings.admin_chat_id
    return [admin] if admin is not None else []


async def _breach_recipients(conn: Conn, deps: Deps, cache: _BatchCache,
                             ticket: Ticket) -> list[int]:
    """Mayor(s) of the neighbourhood and the house's supervisor(s) there; the admin chat
    stands in for missing supervisors (and for everyone when nobody is set up). The house's
    own people hear it too: the assignee, or else its staff and team groups of the area."""
    mayors = await cache.people_with_role(conn, "mayor", ticket.neighbourhood_id)
    supervisors = await cache.people_with_role(conn, "supervisor", ticket.neighbourhood_id,
                                               ticket.house_id)
    own = [ticket.assignee_id] if ticket.assignee_id is not None else \
        await _house_team(conn, cache, ticket)
    recipients = [*mayors, *supervisors, *own]
    admin = deps.settings.admin_chat_id
    if not supervisors and admin is not None:
        recipients.append(admin)
    return list(dict.fromkeys(recipients))


async def _second_recipients(conn: Conn, deps: Deps, cache: _BatchCache,
                             ticket: Ticket) -> list[int]:
    admin = deps.settings.admin_chat_id
    if admin is not None:
        return [admin]
    return await _breach_recipients(conn, deps, cache, ticket)


def _place_args(ticket: Ticket) -> dict[str, Any]:
    """Reference data by id: its names are looked up when the notice is rendered."""
    return {"code": ticket.code, "due": when(ticket.due_at),
            "neighbourhood_id": ticket.neighbourhood_id, "house_id": ticket.house_id}


def _quiet_until(deps: Deps, now: datetime) -> datetime | None:
    """The end of the quiet hours `now` is in (None: not quiet now)."""
    quiet = deps.settings.quiet
    if quiet is None or not quiet.contains(now, deps.settings.tz):
        return None
    return quiet.release(now, deps.settings.tz)


async def _reminder_args(conn: Conn, deps: Deps, cache: _BatchCache,
                         ticket: Ticket) -> dict[str, Any]:
    """Time left measured on the ticket's clock ("6 office hours"), and the holidays that
    moved an office-time deadline (names in both languages, chosen when rendered)."""
    now = deps.clock.now()
    args: dict[str, Any] = {**_place_args(ticket), "at": when(now)}
    if ticket.sla_clock == ClockKind.OFFICE.value:
        args["office"] = True
        args["left"] = int(windows.office_left(deps, ticket, now).total_seconds())
        holidays = windows.holidays_on_the_way(deps, ticket)
        if holidays:
            args["holidays"] = [[h.name_fa, h.name_en] for h in holidays]
    return args


async def _escalation_args(conn: Conn, deps: Deps, cache: _BatchCache,
                           ticket: Ticket, hours: int, *, second: bool) -> dict[str, Any]:
    assignee = await cache.person(conn, ticket.assignee_id) if ticket.assignee_id else None
    args = {**_place_args(ticket), "at": when(deps.clock.now()), "hours": hours,
            "second": second,
            "assignee": assignee.first_name if assignee else None}
    if ticket.sla_clock == ClockKind.OFFICE.value:
        args["office"] = True
    if ticket.urgent:
        args["urgent"] = True
    return args


# --------------------------------------------------------------------------- daily digest

async def run_digest(deps: Deps) -> int:
    """Queue today's summary for every mayor, staff member and bound group that has open
    requests. Idempotent per local day. Returns how many digests were queued."""
    now = deps.clock.now()
    # Not on Fridays and holidays (nor days a dated change closes the offices): the next
    # working morning's digest is the usual snapshot. In quiet hours it waits for their end.
    if not deps.calendar.is_working_day(deps.calendar.local_date(now)):
        return 0
    held = _quiet_until(deps, now)
    soon = now + timedelta(hours=24)
    day = digest_day(now, deps.settings.timezone)
    queued = 0
    async with deps.db.tx() as conn:
        audiences: list[tuple[str, int, list[sla_queries.Scope]]] = []
        for role in ("mayor", "staff"):
            for person_id, scopes in (await sla_queries.role_scopes(conn, role)).items():
                audiences.append((role, person_id, scopes))
        for chat_id, scopes in (await sla_queries.group_scopes(conn)).items():
            audiences.append(("group", chat_id, scopes))
        for audience, chat_id, scopes in audiences:
            stats = await sla_queries.digest(conn, scopes, now, soon)
            if stats.open == 0:
                continue
            added = await deps.outbox.notify(conn, Notice(
                NoticeKind.DIGEST, chat_id, f"digest:{day}:{audience}:{chat_id}", "digest",
                args={"at": when(now), "open": stats.open, "due_soon": stats.due_soon,
                      "overdue": stats.overdue, "oldest_overdue": stats.oldest_overdue,
                      "soonest_due": stats.soonest_due, "oldest_open": stats.oldest_open},
                not_before=held))
            queued += int(added)
    return queued


# --------------------------------------------------------------------------- housekeeping

async def housekeeping(deps: Deps) -> int:
    """Forget update ids older than a week: Telegram re-delivers only unconfirmed updates,
    within hours, so the dedupe table need not grow forever."""
    async with deps.db.tx() as conn:
        return await updates.prune(conn, deps.clock.now(), timedelta(days=7))
