"""The 72-hour promise at work: one periodic sweep and a daily digest.

The sweep reads only tickets whose `sla_next_at` has come (partial index `tickets_sla`), asks
the pure clock (`bot.domain.sla.due_actions`) what to do, and records each action in
`sla_actions` together with its event and outbox rows in ONE transaction per ticket. The
primary key (ticket, window, action) plus the outbox idempotency keys make every reminder and
escalation happen exactly once per window, also if the process restarts mid-sweep.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any

import aiosqlite
from telegram.ext import Application

from bot.deps import Deps
from bot.domain import sla
from bot.domain.tickets import Action, Status
from bot.i18n import Translator
from bot.jalali import format_date, format_datetime, format_duration
from bot.labels import localized
from bot.services.notify import notify
from bot.services.tickets import SYSTEM, apply, ticket_buttons
from storage import people, places, roles_query, sla_queries
from storage import tickets as repo
from storage.models import Ticket

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
                async with deps.db.read() as conn:
                    ids = await sla_queries.due_ticket_ids(conn, now, SWEEP_BATCH)
            except Exception:
                log.exception("SLA sweep could not read due tickets")
                return handled
            for ticket_id in ids:
                await _handle_safely(deps, ticket_id, now)
            handled += len(ids)
            if len(ids) < SWEEP_BATCH:
                break
    return handled


async def _handle_safely(deps: Deps, ticket_id: int, now: datetime) -> None:
    try:
        async with deps.db.tx() as conn:
            await _handle(conn, deps, ticket_id, now)
    except Exception:
        log.exception("SLA sweep failed on ticket %s; will retry later", ticket_id)
        try:
            async with deps.db.tx() as conn:
                await sla_queries.set_next_check(conn, ticket_id, now + RETRY_BROKEN)
        except Exception:
            log.exception("SLA sweep could not postpone ticket %s", ticket_id)


async def _handle(conn: aiosqlite.Connection, deps: Deps, ticket_id: int, now: datetime) -> None:
    ticket = await repo.get(conn, ticket_id)
    if ticket is None:
        return
    settings = deps.settings
    done = await sla_queries.done_actions(conn, ticket.id, ticket.window_no)
    plan = sla.due_actions(
        ticket.due_at, now, paused_at=ticket.paused_at,
        first_response_at=ticket.first_response_at, closed=ticket.status is Status.CLOSED,
        reminder_hours=settings.reminder_hours,
        second_escalation_hours=settings.second_escalation_hours, done=done)
    for action in plan.actions:
        if not await sla_queries.record_action(conn, ticket.id, ticket.window_no, action, now):
            continue
        recipients = await _perform(conn, deps, ticket, action)
        ticket, _ = await apply(conn, deps, ticket, Action.SLA, SYSTEM,
                                public=action == sla.BREACH,
                                details={"sla": action, "window": ticket.window_no,
                                         "to": recipients})
    if plan.skipped:
        log.info("ticket %s: skipped stale SLA moments %s", ticket.id, plan.skipped)
    await sla_queries.set_next_check(conn, ticket.id, plan.next_at)


def _key(ticket: Ticket, action: str, chat_id: int) -> str:
    return f"sla:{ticket.id}:{ticket.window_no}:{action}:{chat_id}"


async def _perform(conn: aiosqlite.Connection, deps: Deps, ticket: Ticket, action: str
                   ) -> list[int]:
    """Queue the messages for one action; returns who was told."""
    if action.startswith(sla.REMIND + "_"):
        recipients = await _reminder_recipients(conn, deps, ticket)
        render = await _reminder_text(conn, deps, ticket)
        for chat_id in recipients:
            await notify(conn, deps, chat_id, key=_key(ticket, action, chat_id),
                         kind="sla_reminder", render=render, ticket_id=ticket.id,
                         markup=lambda tr: ticket_buttons(tr, ticket))
        return recipients
    if action == sla.BREACH:
        recipients = await _breach_recipients(conn, deps, ticket)
        render = await _escalation_text(conn, deps, ticket, second=False)
        for chat_id in recipients:
            await notify(conn, deps, chat_id, key=_key(ticket, action, chat_id),
                         kind="sla_escalation", render=render, ticket_id=ticket.id,
                         markup=lambda tr: ticket_buttons(tr, ticket, can_take=False))
        hours = deps.settings.response_window_hours

        def resident_text(tr: Translator) -> str:
            return tr._("😔 We are sorry: your request {code} was not answered within "
                        "{hours} hours. It has been reported to the neighbourhood mayor and "
                        "the person in charge at the service house, so that it is followed "
                        "up.").format(code=ticket.code, hours=tr.digits(hours))

        await notify(conn, deps, ticket.resident_id, key=_key(ticket, action, ticket.resident_id),
                     kind="sla_late", render=resident_text, ticket_id=ticket.id)
        return [*recipients, ticket.resident_id]
    if action == sla.ESCALATE2:
        recipients = await _second_recipients(conn, deps, ticket)
        render = await _escalation_text(conn, deps, ticket, second=True)
        for chat_id in recipients:
            await notify(conn, deps, chat_id, key=_key(ticket, action, chat_id),
                         kind="sla_escalation", render=render, ticket_id=ticket.id,
                         markup=lambda tr: ticket_buttons(tr, ticket, can_take=False))
        return recipients
    raise ValueError(f"unknown SLA action {action}")


async def _house_team(conn: aiosqlite.Connection, ticket: Ticket) -> list[int]:
    staff = await roles_query.people_with_role(conn, "staff", ticket.neighbourhood_id,
                                               ticket.house_id)
    groups = await roles_query.bound_groups(conn, ticket.house_id, ticket.neighbourhood_id)
    return [*staff, *groups]


async def _reminder_recipients(conn: aiosqlite.Connection, deps: Deps, ticket: Ticket
                               ) -> list[int]:
    """The assignee; nobody took it: the house team of the area; no team: mayor/admin chat."""
    if ticket.assignee_id is not None:
        return [ticket.assignee_id]
    team = await _house_team(conn, ticket)
    if team:
        return list(dict.fromkeys(team))
    mayors = await roles_query.people_with_role(conn, "mayor", ticket.neighbourhood_id)
    if mayors:
        return mayors
    admin = deps.settings.admin_chat_id
    return [admin] if admin is not None else []


async def _breach_recipients(conn: aiosqlite.Connection, deps: Deps, ticket: Ticket
                             ) -> list[int]:
    """Mayor(s) of the neighbourhood and the house's supervisor(s) there; the admin chat
    stands in for missing supervisors (and for everyone when nobody is set up)."""
    mayors = await roles_query.people_with_role(conn, "mayor", ticket.neighbourhood_id)
    supervisors = await roles_query.people_with_role(conn, "supervisor",
                                                     ticket.neighbourhood_id, ticket.house_id)
    recipients = [*mayors, *supervisors]
    admin = deps.settings.admin_chat_id
    if not supervisors and admin is not None:
        recipients.append(admin)
    return list(dict.fromkeys(recipients))


async def _second_recipients(conn: aiosqlite.Connection, deps: Deps, ticket: Ticket
                             ) -> list[int]:
    admin = deps.settings.admin_chat_id
    if admin is not None:
        return [admin]
    return await _breach_recipients(conn, deps, ticket)


async def _context_lines(conn: aiosqlite.Connection, deps: Deps, ticket: Ticket
                         ) -> tuple[Any, Any, str | None]:
    neighbourhood = await places.neighbourhood(conn, ticket.neighbourhood_id)
    house = await places.house(conn, ticket.house_id)
    assert neighbourhood and house
    assignee = await people.get(conn, ticket.assignee_id) if ticket.assignee_id else None
    return neighbourhood, house, assignee.first_name if assignee else None


async def _reminder_text(conn: aiosqlite.Connection, deps: Deps, ticket: Ticket
                         ) -> Any:
    neighbourhood, house, _ = await _context_lines(conn, deps, ticket)
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


async def _escalation_text(conn: aiosqlite.Connection, deps: Deps, ticket: Ticket, *,
                           second: bool) -> Any:
    neighbourhood, house, assignee = await _context_lines(conn, deps, ticket)
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
