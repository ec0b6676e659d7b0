"""The 72-hour promise at work: one periodic sweep and a daily digest.

The sweep reads only tickets whose `sla_next_at` has come (partial index `tickets_sla`), asks
the pure clock (`bot.domain.sla.due_actions`) what to do, and records each action in
`sla_actions` together with its event and outbox rows: one transaction per batch of due
tickets, one savepoint per ticket (a failing ticket rolls back alone). The
primary key (ticket, window, action) plus the outbox idempotency keys make every reminder and
escalation happen exactly once per window, also if the process restarts mid-sweep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import aiosqlite
from telegram.ext import Application

from bot.deps import Deps
from bot.domain import sla
from bot.domain.models import House, Neighbourhood, Person, Ticket
from bot.domain.tickets import Action, Status
from bot.i18n import Translator
from bot.outbox import Queued
from bot.services import windows
from bot.services.notify import Render, notify, prepare
from bot.services.tickets import SYSTEM, apply, ticket_buttons
from bot.ui.jalali import format_date, format_datetime, format_duration
from bot.ui.labels import localized
from storage import people, places, roles_query, sla_queries, updates

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
        await cache.preload_people(conn, [p for t in tickets
                                          for p in (t.resident_id, t.assignee_id) if p])
        writes = _Writes()
        for ticket in tickets:
            if isolate:
                await _handle_isolated(conn, deps, cache, ticket, done[ticket.id], now, writes)
            else:
                await _handle(conn, deps, cache, ticket, done[ticket.id], now, writes)
        await sla_queries.record_actions(conn, writes.actions, now)
        await deps.outbox.enqueue_many(conn, writes.messages)
    return len(tickets)


@dataclass
class _Writes:
    """The batch's sla_actions and outbox rows, written with one statement each at the end
    of its transaction (rows of a ticket that failed are never added)."""

    actions: list[tuple[int, int, str]] = field(default_factory=list)
    messages: list[Queued] = field(default_factory=list)


async def _handle_isolated(conn: aiosqlite.Connection, deps: Deps, cache: _BatchCache,
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
        writes.messages.extend(mine.messages)


async def _handle(conn: aiosqlite.Connection, deps: Deps, cache: _BatchCache, ticket: Ticket,
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
        recipients = await _perform(conn, deps, cache, writes.messages, ticket, action)
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
    """Places, recipients and people read once per batch instead of once per ticket.

    Valid for one batch transaction only: it holds the database lock, and the sweep itself
    never changes roles, bindings, places or people."""

    people: dict[int, Person | None] = field(default_factory=dict)
    roles: dict[tuple[str, int, int | None], list[int]] = field(default_factory=dict)
    groups: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    neighbourhoods: dict[int, Neighbourhood | None] = field(default_factory=dict)
    houses: dict[int, House | None] = field(default_factory=dict)

    async def preload_people(self, conn: aiosqlite.Connection, ids: list[int]) -> None:
        wanted = set(ids) - set(self.people)
        found = await people.get_many(conn, wanted)
        for person_id in wanted:
            self.people[person_id] = found.get(person_id)

    async def person(self, conn: aiosqlite.Connection, person_id: int) -> Person | None:
        if person_id not in self.people:
            self.people[person_id] = await people.get(conn, person_id)
        return self.people[person_id]

    async def people_with_role(self, conn: aiosqlite.Connection, role: str,
                               neighbourhood_id: int, house_id: int | None = None
                               ) -> list[int]:
        key = (role, neighbourhood_id, house_id)
        if key not in self.roles:
            self.roles[key] = await roles_query.people_with_role(conn, role, neighbourhood_id,
                                                                 house_id)
        return list(self.roles[key])

    async def bound_groups(self, conn: aiosqlite.Connection, house_id: int,
                           neighbourhood_id: int) -> list[int]:
        key = (house_id, neighbourhood_id)
        if key not in self.groups:
            self.groups[key] = await roles_query.bound_groups(conn, house_id, neighbourhood_id)
        return list(self.groups[key])

    async def neighbourhood(self, conn: aiosqlite.Connection, neighbourhood_id: int
                            ) -> Neighbourhood | None:
        if neighbourhood_id not in self.neighbourhoods:
            self.neighbourhoods[neighbourhood_id] = await places.neighbourhood(
                conn, neighbourhood_id)
        return self.neighbourhoods[neighbourhood_id]

    async def house(self, conn: aiosqlite.Connection, house_id: int) -> House | None:
        if house_id not in self.houses:
            self.houses[house_id] = await places.house(conn, house_id)
        return self.houses[house_id]


def _key(ticket: Ticket, action: str, chat_id: int) -> str:
    return f"sla:{ticket.id}:{ticket.window_no}:{action}:{chat_id}"


async def _perform(conn: aiosqlite.Connection, deps: Deps, cache: _BatchCache,
                   out: list[Queued], ticket: Ticket, action: str) -> list[int]:
    """Render the messages for one action into `out`; returns who was told."""

    async def tell(recipients: list[int], kind: str, render: Render, *,
                   can_take: bool) -> None:
        """Reminders carry "Take" (they go to the house team); escalations only "Show"."""
        for chat_id in recipients:
            out.append(await prepare(conn, deps, chat_id, key=_key(ticket, action, chat_id),
                                     kind=kind, render=render, ticket_id=ticket.id,
                                     markup=lambda tr: ticket_buttons(tr, ticket,
                                                                      can_take=can_take),
                                     people_cache=cache.people))

    if action.startswith(sla.REMIND + "_"):
        recipients = await _reminder_recipients(conn, deps, cache, ticket)
        await tell(recipients, "sla_reminder", await _reminder_text(conn, deps, cache, ticket),
                   can_take=True)
        return recipients
    if action == sla.BREACH:
        recipients = await _breach_recipients(conn, deps, cache, ticket)
        await tell(recipients, "sla_escalation",
                   await _escalation_text(conn, deps, cache, ticket, second=False),
                   can_take=False)
        hours = deps.settings.response_window_hours

        def resident_text(tr: Translator) -> str:
            return tr._("😔 We are sorry: your request {code} was not answered within "
                        "{hours} hours. It has been reported to the neighbourhood mayor and "
                        "the person in charge at the service house, so that it is followed "
                        "up.").format(code=ticket.code, hours=tr.digits(hours))

        out.append(await prepare(conn, deps, ticket.resident_id,
                                 key=_key(ticket, action, ticket.resident_id), kind="sla_late",
                                 render=resident_text, ticket_id=ticket.id,
                                 people_cache=cache.people))
        return [*recipients, ticket.resident_id]
    if action == sla.ESCALATE2:
        recipients = await _second_recipients(conn, deps, cache, ticket)
        await tell(recipients, "sla_escalation",
                   await _escalation_text(conn, deps, cache, ticket, second=True),
                   can_take=False)
        return recipients
    raise ValueError(f"unknown SLA action {action}")


async def _house_team(conn: aiosqlite.Connection, cache: _BatchCache, ticket: Ticket
                      ) -> list[int]:
    staff = await cache.people_with_role(conn, "staff", ticket.neighbourhood_id, ticket.house_id)
    groups = await cache.bound_groups(conn, ticket.house_id, ticket.neighbourhood_id)
    return [*staff, *groups]


async def _reminder_recipients(conn: aiosqlite.Connection, deps: Deps, cache: _BatchCache,
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


async def _breach_recipients(conn: aiosqlite.Connection, deps: Deps, cache: _BatchCache,
                             ticket: Ticket) -> list[int]:
    """Mayor(s) of the neighbourhood and the house's supervisor(s) there; the admin chat
    stands in for missing supervisors (and for everyone when nobody is set up)."""
    mayors = await cache.people_with_role(conn, "mayor", ticket.neighbourhood_id)
    supervisors = await cache.people_with_role(conn, "supervisor", ticket.neighbourhood_id,
                                               ticket.house_id)
    recipients = [*mayors, *supervisors]
    admin = deps.settings.admin_chat_id
    if not supervisors and admin is not None:
        recipients.append(admin)
    return list(dict.fromkeys(recipients))


async def _second_recipients(conn: aiosqlite.Connection, deps: Deps, cache: _BatchCache,
                             ticket: Ticket) -> list[int]:
    admin = deps.settings.admin_chat_id
    if admin is not None:
        return [admin]
    return await _breach_recipients(conn, deps, cache, ticket)


async def _context_lines(conn: aiosqlite.Connection, deps: Deps, cache: _BatchCache,
                         ticket: Ticket) -> tuple[Any, Any, str | None]:
    neighbourhood = await cache.neighbourhood(conn, ticket.neighbourhood_id)
    house = await cache.house(conn, ticket.house_id)
    assert neighbourhood and house
    assignee = await cache.person(conn, ticket.assignee_id) if ticket.assignee_id else None
    return neighbourhood, house, assignee.first_name if assignee else None


async def _reminder_text(conn: aiosqlite.Connection, deps: Deps, cache: _BatchCache,
                         ticket: Ticket) -> Any:
    neighbourhood, house, _ = await _context_lines(conn, deps, cache, ticket)
    now = deps.clock.now()
    tz = deps.settings.timezone

    def render(tr: Translator) -> str:
        return "\n".join([
            tr._("⏰ Request {code} must be answered within {left}.").format(
                code=ticket.code, left=format_duration(ticket.due_at - now, tr.locale)),
            tr._("Answer due: {due}").format(due=format_datetime(ticket.due_at, tr.locale, tz)),
            tr._("Neighbourhood: {name}").format(
                name=localized(tr, neighbourhood.name_fa, neighbourhood.name_en)),
            tr._("House: {house}").format(house=localized(tr, house.name_fa, house.name_en)),
        ])
    return render


async def _escalation_text(conn: aiosqlite.Connection, deps: Deps, cache: _BatchCache,
                           ticket: Ticket, *, second: bool) -> Any:
    neighbourhood, house, assignee = await _context_lines(conn, deps, cache, ticket)
    now = deps.clock.now()
    tz = deps.settings.timezone
    hours = deps.settings.response_window_hours

    def render(tr: Translator) -> str:
        head = (tr._("🚨 Second escalation: request {code} is still unanswered, {late} after "
                     "its deadline.") if second else
                tr._("🚨 Request {code} was not answered within {hours} hours."))
        lines = [
            head.format(code=ticket.code, hours=tr.digits(hours),
                        late=format_duration(now - ticket.due_at, tr.locale)),
            tr._("Answer was due: {due}").format(
                due=format_datetime(ticket.due_at, tr.locale, tz)),
            tr._("Neighbourhood: {name}").format(
                name=localized(tr, neighbourhood.name_fa, neighbourhood.name_en)),
            tr._("House: {house}").format(house=localized(tr, house.name_fa, house.name_en)),
            tr._("Taken by: {name}").format(name=assignee) if assignee else
            tr._("Nobody has taken it yet."),
        ]
        return "\n".join(lines)
    return render


# --------------------------------------------------------------------------- daily digest

async def run_digest(deps: Deps) -> int:
    """Queue today's summary for every mayor, staff member and bound group that has open
    requests. Idempotent per local day. Returns how many digests were queued."""
    now = deps.clock.now()
    soon = now + timedelta(hours=24)
    day = format_date(now, "en", deps.settings.timezone)
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
            added = await notify(conn, deps, chat_id, key=f"digest:{day}:{audience}:{chat_id}",
                                 kind="digest", render=_digest_render(deps, stats, now))
            queued += int(added)
    return queued


def _digest_render(deps: Deps, stats: sla_queries.DigestStats, now: datetime) -> Any:
    def codes(tr: Translator, items: list[str]) -> str:
        return "، ".join(items) if tr.locale == "fa" else ", ".join(items)

    def render(tr: Translator) -> str:
        lines = [
            tr._("📊 Daily summary, {date}").format(
                date=format_date(now, tr.locale, deps.settings.timezone)),
            tr._("Open requests: {n}").format(n=tr.digits(stats.open)),
            tr._("Due within 24 hours: {n}").format(n=tr.digits(stats.due_soon)),
            tr._("Overdue: {n}").format(n=tr.digits(stats.overdue)),
        ]
        if stats.oldest_overdue:
            lines.append(tr._("Most overdue: {codes}").format(
                codes=codes(tr, stats.oldest_overdue)))
        if stats.soonest_due:
            lines.append(tr._("Due soonest: {codes}").format(codes=codes(tr, stats.soonest_due)))
        lines.append(tr._("Oldest open: {codes}").format(codes=codes(tr, stats.oldest_open)))
        return "\n".join(lines)
    return render


# --------------------------------------------------------------------------- jobs

async def _sweep_job(context: Any) -> None:
    await sweep(context.application.bot_data["deps"])


async def _digest_job(context: Any) -> None:
    try:
        await run_digest(context.application.bot_data["deps"])
    except Exception:
        log.exception("daily digest failed")


async def housekeeping(deps: Deps) -> int:
    """Forget update ids older than a week: Telegram re-delivers only unconfirmed updates,
    within hours, so the dedupe table need not grow forever."""
    async with deps.db.tx() as conn:
        return await updates.prune(conn, deps.clock.now(), timedelta(days=7))


async def _housekeeping_job(context: Any) -> None:
    deps = context.application.bot_data["deps"]
    try:
        removed = await housekeeping(deps)
        log.info("housekeeping: forgot %d old update ids", removed)
    except Exception:
        log.exception("housekeeping failed")


def register_jobs(app: Application[Any, Any, Any, Any, Any, Any], deps: Deps) -> None:
    """One repeating sweep (never a job per ticket) and the digest at local morning time."""
    queue = app.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    settings = deps.settings
    queue.run_repeating(_sweep_job, interval=settings.sla_sweep_seconds,
                        first=settings.sla_sweep_seconds, name="sla_sweep")
    hour, minute = (int(x) for x in settings.digest_time.split(":"))
    queue.run_daily(_digest_job, time=time(hour, minute, tzinfo=settings.tz), name="sla_digest")
    queue.run_daily(_housekeeping_job, time=time(4, 0, tzinfo=settings.tz), name="housekeeping")
