"""Use-cases of mayors and house staff: every change re-reads the ticket inside one
transaction, checks scope and the state machine, records the event via `apply`, tells the
resident through the outbox and announces to a new house when it moves.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.deps import Deps
from bot.domain import sla
from bot.domain.models import Attachment, House, Role, Ticket, TicketEvent
from bot.domain.notices import NoticeKind, when
from bot.domain.text import normalize, normalize_tracking_code, to_ascii_digits
from bot.domain.tickets import Action, CloseReason, Status, TransitionError
from bot.i18n import N_, Translator
from bot.services.errors import NotFound, Refused
from bot.services.resident import notify_resident
from bot.services.roles import Scope, scope_for
from bot.services.tickets import Actor, announce, apply
from bot.ui.jalali import format_datetime
from bot.ui.labels import CLOSE_REASON, kind_label, localized, status_label
from bot.ui.sla_badge import sla_badge
from storage import outbox, people, places
from storage import staff_queries as q
from storage import tickets as repo

PAGE = 8
SEARCH_LIMIT = 10
SEARCH_DAYS = 365


@dataclass(frozen=True)
class Ref:
    """A ticket as the user named it: by tracking code (typed) or id (button)."""

    code: str | None = None
    ticket_id: int | None = None

    @classmethod
    def parse(cls, text: str) -> Ref:
        return cls(code=normalize_tracking_code(text))

    @property
    def shown(self) -> str:
        return self.code or ""


def _actor(scope: Scope) -> Actor:
    return Actor(scope.person_id, scope.role)


async def find(conn: aiosqlite.Connection, scope: Scope, ref: Ref, *, need: str = "any"
               ) -> Ticket:
    """`need`: "staff" (house work), "mayor" (triage) or "any" (read)."""
    areas = {"staff": scope.staff_areas, "mayor": scope.mayor_areas}.get(need, scope.areas)
    ticket = await q.ticket_in_scope(conn, areas, ticket_id=ref.ticket_id, code=ref.code)
    if ticket is None:
        raise NotFound(ref.shown)
    return ticket


def _covers(areas: list[q.Area], ticket: Ticket) -> bool:
    return any((a.house_id is None or a.house_id == ticket.house_id)
               and (a.neighbourhood_ids is None or ticket.neighbourhood_id in a.neighbourhood_ids)
               for a in areas)


def _apply_or_refuse(exc: TransitionError) -> Refused:
    return Refused(N_("This can't be done while the request is «{status}»."),
                   status=exc.status.value)


# ---------------------------------------------------------------------------- resident notes

# ---------------------------------------------------------------------------- actions

async def take(deps: Deps, scope: Scope, ref: Ref) -> tuple[Ticket, bool]:
    """Check-and-set in one transaction: (ticket, True) when this person got it."""
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need="staff")
        if ticket.assignee_id == scope.person_id:
            return ticket, False
        if ticket.assignee_id is not None:
            holder = await people.get(conn, ticket.assignee_id)
            raise Refused(N_("{code} is already taken by {name}."), code=ticket.code,
                          name=holder.first_name if holder else "?")
        try:
            ticket, event_id = await apply(conn, deps, ticket, Action.TAKE, _actor(scope),
                                           assignee_id=scope.person_id)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        await notify_resident(conn, deps, ticket, event_id, "status", NoticeKind.TAKEN)
        return ticket, True


async def reply(deps: Deps, scope: Scope, ref: Ref, text: str) -> Ticket:
    """A public answer: relayed with the ticket id so the resident can reply back; the first
    one in a window meets the deadline."""
    text = text.strip()
    if not text:
        raise Refused(N_("Please write the text of the answer after the code."))
    return await _message_resident(
        deps, scope, ref, Action.REPLY, text,
        lambda t: sla.on_public_reply(t.first_response_at, deps.clock.now()))


async def ask(deps: Deps, scope: Scope, ref: Ref, question: str) -> Ticket:
    """A question to the resident: the 72-hour clock pauses until they answer."""
    question = question.strip()
    if not question:
        raise Refused(N_("Please write the question after the code."))
    return await _message_resident(
        deps, scope, ref, Action.ASK, question, lambda _t: sla.on_pause(deps.clock.now()))


async def _message_resident(deps: Deps, scope: Scope, ref: Ref, action: Action, text: str,
                            sla_changes: Callable[[Ticket], dict[str, Any]]) -> Ticket:
    """A public staff message (answer or question): whoever writes first owns the ticket."""
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need="staff")
        changes: dict[str, Any] = dict(sla_changes(ticket))
        if ticket.assignee_id is None:
            changes["assignee_id"] = scope.person_id
        try:
            ticket, event_id = await apply(conn, deps, ticket, action, _actor(scope),
                                           body=text, **changes)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        await notify_resident(conn, deps, ticket, event_id, action.value,
                              NoticeKind.ANSWER if action is Action.REPLY else NoticeKind.QUESTION,
                              text=text)
        return ticket


async def note(deps: Deps, scope: Scope, ref: Ref, text: str) -> Ticket:
    """Internal: public=False, so it never reaches the resident's history."""
    text = text.strip()
    if not text:
        raise Refused(N_("Please write the note after the code."))
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need="any")
        ticket, _ = await apply(conn, deps, ticket, Action.NOTE, _actor(scope), body=text,
                                public=False)
        return ticket


async def move(deps: Deps, scope: Scope, ref: Ref, house_code: str, reason: str, *,
               action: Action) -> Ticket:
    """TRANSFER (staff) or ROUTE (mayor) to another house; the deadline stays."""
    reason = reason.strip()
    if not reason:
        raise Refused(N_("Please write the reason after the house."))
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref,
                            need="mayor" if action is Action.ROUTE else "staff")
        house = await places.house_by_code(conn, house_code.strip())
        if house is None:
            raise Refused(N_("Unknown house «{house}». Use welfare, relief, ehsan or "
                             "redcrescent."), house=house_code)
        if house.id == ticket.house_id:
            raise Refused(N_("{code} is already with this house."), code=ticket.code)
        old_house = ticket.house_id
        try:
            ticket, event_id = await apply(
                conn, deps, ticket, action, _actor(scope), body=reason, public=False,
                details={"from_house": ticket.house_id, "to_house": house.id},
                house_id=house.id, assignee_id=None)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        await notify_resident(conn, deps, ticket, event_id, "status", NoticeKind.MOVED,
                              from_house_id=old_house, to_house_id=house.id)
        await announce(conn, deps, ticket, reason=action.value, key_suffix=f":{event_id}")
        return ticket


async def close(deps: Deps, scope: Scope, ref: Ref, reason: CloseReason, message: str, *,
                duplicate_code: str | None = None, need: str = "staff") -> Ticket:
    """Close with an honest reason and a required public message to the resident."""
    message = message.strip()
    if reason is CloseReason.WITHDRAWN:
        raise Refused(N_("Only the resident can withdraw a request."))
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need=need)
        changes: dict[str, Any] = {"close_reason": reason}
        original: Ticket | None = None
        if reason is CloseReason.DUPLICATE:
            if not duplicate_code:
                raise Refused(N_("Write the code of the original request: "
                                 "/close CODE duplicate ORIGINAL message"))
            try:
                original = await find(conn, scope, Ref.parse(duplicate_code), need="any")
            except NotFound:
                raise Refused(N_("No request with code {code} was found."),
                              code=normalize_tracking_code(duplicate_code)) from None
            if original.id == ticket.id:
                raise Refused(N_("A request cannot be a duplicate of itself."))
            changes["duplicate_of"] = original.id
        elif not message:
            raise Refused(N_("Please write a message for the resident; it is required when "
                             "closing."))
        now = deps.clock.now()
        changes.update(sla.on_public_reply(ticket.first_response_at, now))
        changes.update(sla.on_close(now))
        try:
            ticket, event_id = await apply(
                conn, deps, ticket, Action.CLOSE, _actor(scope), body=message or None,
                details={"reason": reason.value,
                         **({"duplicate_of": original.code} if original else {})},
                **changes)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        await notify_resident(conn, deps, ticket, event_id, "close", NoticeKind.CLOSED,
                              closing=True, reason=reason.value,
                              original=original.code if original else None, message=message)
        return ticket


async def reopen(deps: Deps, scope: Scope, ref: Ref) -> Ticket:
    async with deps.db.tx() as conn:
        ticket = await find(conn, scope, ref, need="staff")
        settings = deps.settings
        changes: dict[str, Any] = sla.on_reopen(ticket.window_no, settings.response_window_hours,
                                settings.reminder_hours, deps.clock.now())
        try:
            ticket, event_id = await apply(conn, deps, ticket, Action.REOPEN, _actor(scope),
                                           reopen_count=ticket.reopen_count + 1, **changes)
        except TransitionError as exc:
            raise _apply_or_refuse(exc) from None
        await notify_resident(conn, deps, ticket, event_id, "status", NoticeKind.REOPENED,
                              due=when(ticket.due_at))
        return ticket


async def use_template(deps: Deps, scope: Scope, ref: Ref, template_id: int) -> Ticket:
    async with deps.db.read() as conn:
        template = await q.canned_reply(conn, template_id)
    if template is None or (template.house_id is not None and not scope.admin
                            and template.house_id not in scope.house_ids):
        raise Refused(N_("That template does not exist."))
    return await reply(deps, scope, ref, template.body)


async def expand_template(deps: Deps, scope: Scope, text: str) -> str:
    """`#3 more words` → body of template 3 followed by the words (insert into a reply)."""
    head, _, rest = text.strip().partition(" ")
    number = to_ascii_digits(head[1:]) if head.startswith("#") else ""
    if not number.isdigit():
        return text
    async with deps.db.read() as conn:
        template = await q.canned_reply(conn, int(number))
    if template is None or (template.house_id is not None and not scope.admin
                            and template.house_id not in scope.house_ids):
        raise Refused(N_("That template does not exist."))
    return (template.body + ("\n" + rest if rest.strip() else "")).strip()


# ---------------------------------------------------------------------------- reading

ACTION_LABEL: dict[str, str] = {
    Action.FILE: N_("filed"), Action.TAKE: N_("took it"), Action.REPLY: N_("answered"),
    Action.ASK: N_("asked"), Action.RESIDENT_MESSAGE: N_("resident wrote"),
    Action.NOTE: N_("internal note"), Action.TRANSFER: N_("transferred"),
    Action.ROUTE: N_("re-routed"), Action.CLOSE: N_("closed"),
    Action.WITHDRAW: N_("withdrawn"), Action.REOPEN: N_("reopened"),
    Action.RATE: N_("rated"), Action.SLA: N_("deadline"),
}

ROLE_LABEL: dict[str, str] = {
    "resident": N_("resident"), "mayor": N_("mayor"), "staff": N_("staff"),
    "supervisor": N_("supervisor"), "admin": N_("admin"), "system": N_("system"),
}


async def card(conn: aiosqlite.Connection, deps: Deps, tr: Translator, scope: Scope,
               ticket: Ticket, *, history: bool) -> str:
    n = await places.neighbourhood(conn, ticket.neighbourhood_id)
    house = await places.house(conn, ticket.house_id)
    cat = await places.category(conn, ticket.category_id)
    assert n and house and cat
    tz = deps.settings.timezone
    lines = [
        tr._("📄 Request {code}").format(code=ticket.code),
        tr._("Status: {status}").format(status=status_label(tr, ticket.status,
                                                            ticket.close_reason)),
        tr._("Neighbourhood: {name}").format(name=localized(tr, n.name_fa, n.name_en)),
        tr._("Type: {kind} · {category}").format(kind=kind_label(tr, ticket.kind),
                                                 category=localized(tr, cat.name_fa,
                                                                    cat.name_en)),
        tr._("House: {house}").format(house=localized(tr, house.name_fa, house.name_en)),
        tr._("Filed: {when}").format(when=format_datetime(ticket.created_at, tr.locale, tz)),
        tr._("Deadline: {state}").format(state=sla_badge(tr, ticket, deps.clock.now())),
    ]
    if ticket.assignee_id is not None:
        holder = await people.get(conn, ticket.assignee_id)
        lines.append(tr._("Taken by: {name}").format(name=holder.first_name if holder
                                                      else "?"))
    if ticket.duplicate_of is not None:
        original = await repo.get(conn, ticket.duplicate_of)
        if original:
            lines.append(tr._("Duplicate of: {code}").format(code=original.code))
    if await people.is_unreachable(conn, ticket.resident_id):
        lines.append(tr._("⚠️ The resident has blocked the bot: messages to them are not "
                          "delivered. Reach them another way."))
    if ticket.phone and _covers(scope.staff_areas, ticket):
        lines.append(tr._("Phone: {phone}").format(phone=ticket.phone))
    files = await repo.attachment_count(conn, ticket.id)
    if files:
        lines.append(tr.ngettext("📎 {n} attachment", "📎 {n} attachments", files).format(
            n=tr.digits(files)))
    if ticket.lat is not None and ticket.lon is not None:
        lines.append(tr._("📍 location shared"))
    lines += ["", ticket.text]
    if history:
        events = await repo.events(conn, ticket.id, public_only=False)
        lines += ["", tr._("History:")]
        lines += [await _event_line(conn, deps, tr, e) for e in events]
    return "\n".join(lines)


async def _event_line(conn: aiosqlite.Connection, deps: Deps, tr: Translator,
                      event: TicketEvent) -> str:
    who = ""
    if event.actor_id is not None:
        person = await people.get(conn, event.actor_id)
        who = person.first_name if person else ""
    role = tr._(ROLE_LABEL.get(event.actor_role, event.actor_role))
    label = tr._(ACTION_LABEL.get(event.action, event.action))
    when = format_datetime(event.at, tr.locale, deps.settings.timezone)
    line = f"• {when} · {who} ({role}) · {label}"
    if not event.public:
        line = "🔒 " + line
    if event.action in (Action.TRANSFER, Action.ROUTE) and "to_house" in event.details:
        house = await places.house(conn, int(event.details["to_house"]))
        if house:
            line += " → " + localized(tr, house.name_fa, house.name_en)
    if event.action == Action.CLOSE and event.details.get("reason") in set(CloseReason):
        line += " (" + tr._(CLOSE_REASON[CloseReason(event.details["reason"])]) + ")"
        if event.details.get("duplicate_of"):
            line += f" {event.details['duplicate_of']}"
    if event.body and event.action != Action.FILE:
        line += f": {event.body}"
    return line


async def show(deps: Deps, tr: Translator, scope: Scope, ref: Ref, *, history: bool = True
               ) -> tuple[Ticket, str]:
    async with deps.db.read() as conn:
        ticket = await find(conn, scope, ref)
        return ticket, await card(conn, deps, tr, scope, ticket, history=history)


async def files(deps: Deps, scope: Scope, ref: Ref) -> tuple[Ticket, list[Attachment]]:
    """Files of the ticket (filing and later resident messages), after the same scope check
    as `show`: out of scope is NotFound."""
    async with deps.db.read() as conn:
        ticket = await find(conn, scope, ref)
        return ticket, await repo.attachments(conn, ticket.id)


async def has_files(deps: Deps, ticket: Ticket) -> bool:
    """Whether the card offers the attachments button (files or a location)."""
    if ticket.lat is not None and ticket.lon is not None:
        return True
    async with deps.db.read() as conn:
        return await repo.attachment_count(conn, ticket.id) > 0


QUEUE_FILTERS = ("all", "mine", "unassigned", "overdue")


async def queue(deps: Deps, scope: Scope, kind: str, page: int, *, inbox: bool = False
                ) -> tuple[list[Ticket], int]:
    statuses = (Status.NEW.value, Status.REOPENED.value) if inbox else q.OPEN
    areas = scope.mayor_areas if inbox else scope.staff_areas
    async with deps.db.read() as conn:
        return await q.queue(conn, areas, kind=kind, me=scope.person_id,
                             now=deps.clock.now(), limit=PAGE, offset=max(page, 0) * PAGE,
                             statuses=statuses)


async def queue_line(deps: Deps, tr: Translator, ticket: Ticket) -> str:
    async with deps.db.read() as conn:
        n = await places.neighbourhood(conn, ticket.neighbourhood_id)
    name = localized(tr, n.name_fa, n.name_en) if n else "?"
    short = ticket.text if len(ticket.text) <= 40 else ticket.text[:40] + "…"
    return (f"{ticket.code} · {status_label(tr, ticket.status)} · {name} · "
            f"{sla_badge(tr, ticket, deps.clock.now())}\n   {short}")


def phone_variants(text: str) -> list[str] | None:
    """Spellings a stored phone may have: 09121234567, +989121234567, 989121234567."""
    digits = "".join(ch for ch in to_ascii_digits(text) if ch.isdigit())
    if len(digits) < 10 or len(digits) > 13 or len(digits) < len(text.strip().lstrip("+")) - 2:
        return None
    tail = digits[-10:]
    return ["0" + tail, "+98" + tail, "98" + tail, tail]


async def search(deps: Deps, scope: Scope, text: str) -> list[Ticket]:
    """By code (unique index), by phone (index; staff only) or by normalised text (FTS)."""
    areas = scope.areas
    async with deps.db.read() as conn:
        code = normalize_tracking_code(text)
        if len(text.split()) == 1:
            found = await q.ticket_in_scope(conn, areas, code=code)
            if found is not None:
                return [found]
        phones = phone_variants(text)
        if phones is not None:
            return await q.search_phone(conn, scope.staff_areas, phones, limit=SEARCH_LIMIT)
        query = normalize(text)
        if not query:
            return []
        return await q.search_text(conn, areas, query,
                                   since=deps.clock.now() - timedelta(days=SEARCH_DAYS),
                                   limit=SEARCH_LIMIT)


@dataclass
class StatLine:
    house: str
    neighbourhood: str
    open: int = 0
    overdue: int = 0
    median_first_response: timedelta | None = None
    within_window: float | None = None


async def stats(deps: Deps, tr: Translator, scope: Scope) -> list[StatLine]:
    now = deps.clock.now()
    async with deps.db.read() as conn:
        rows = await q.stats_rows(conn, scope.areas)
        groups: dict[tuple[int, int], list[Any]] = defaultdict(list)
        for row in rows:
            groups[(int(row["house_id"]), int(row["neighbourhood_id"]))].append(row)
        result = []
        for (house_id, n_id), items in sorted(groups.items()):
            house = await places.house(conn, house_id)
            n = await places.neighbourhood(conn, n_id)
            line = StatLine(localized(tr, house.name_fa, house.name_en) if house else "?",
                            localized(tr, n.name_fa, n.name_en) if n else "?")
            answered, judged, in_time = [], 0, 0
            for row in items:
                status = Status(row["status"])
                due = datetime.fromisoformat(row["due_at"])
                first = (datetime.fromisoformat(row["first_response_at"])
                         if row["first_response_at"] else None)
                if status is not Status.CLOSED:
                    line.open += 1
                    if first is None and row["paused_at"] is None and due < now:
                        line.overdue += 1
                if first is not None:
                    answered.append(first - datetime.fromisoformat(row["window_started_at"]))
                if first is not None or due < now:
                    judged += 1
                    in_time += first is not None and first <= due
            if answered:
                seconds = statistics.median(a.total_seconds() for a in answered)
                line.median_first_response = timedelta(seconds=seconds)
            if judged:
                line.within_window = in_time / judged
            result.append(line)
        return result


def parse_day(text: str, tz: Any) -> datetime | None:
    """`1405-09-05` (Jalali) or `2026-11-26` (Gregorian), local midnight as aware UTC."""
    import jdatetime

    parts = to_ascii_digits(text).replace("/", "-").split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    y, m, d = (int(p) for p in parts)
    try:
        if y < 1700:
            g = jdatetime.date(y, m, d).togregorian()
            y, m, d = g.year, g.month, g.day
        return datetime(y, m, d, tzinfo=tz)
    except ValueError:
        return None


EXPORT_COLUMNS = ("code", "filed", "neighbourhood_code", "neighbourhood", "house", "category",
                  "kind", "status", "close_reason", "due", "first_response", "closed",
                  "rating", "phone", "text")


async def export_csv(deps: Deps, tr: Translator, scope: Scope, start: datetime,
                     end: datetime) -> tuple[bytes, int]:
    """CSV with a UTF-8 BOM so spreadsheet programs show Persian; phones only in staff scope."""
    tz = deps.settings.timezone
    async with deps.db.read() as conn:
        rows = await q.export_rows(conn, scope.areas, start, end)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([tr._(c) for c in EXPORT_HEADERS])

    def when(value: str | None) -> str:
        return format_datetime(datetime.fromisoformat(value), tr.locale, tz) if value else ""

    for r in rows:
        ticket = Ticket.model_validate({k: r[k] for k in Ticket.model_fields if k in r})
        writer.writerow([
            r["code"], when(r["created_at"]), r["n_code"],
            localized(tr, r["n_fa"], r["n_en"]), localized(tr, r["h_fa"], r["h_en"]),
            localized(tr, r["c_fa"], r["c_en"]), kind_label(tr, ticket.kind),
            status_label(tr, ticket.status),
            tr._(CLOSE_REASON[ticket.close_reason]) if ticket.close_reason else "",
            when(r["due_at"]), when(r["first_response_at"]), when(r["closed_at"]),
            r["rating"] or "",
            (r["phone"] or "") if _covers(scope.staff_areas, ticket) else "",
            r["text"],
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8"), len(rows)


EXPORT_HEADERS = (N_("code"), N_("filed"), N_("neighbourhood code"), N_("neighbourhood"),
                  N_("house"), N_("category"), N_("type"), N_("status"), N_("close reason"),
                  N_("deadline"), N_("first answer"), N_("closed"), N_("rating"), N_("phone"),
                  N_("text"))


async def templates(deps: Deps, scope: Scope) -> list[q.CannedReply]:
    async with deps.db.read() as conn:
        return await q.canned_replies(conn, scope.house_ids)


# ---------------------------------------------------------------------------- lookups for handlers

async def current_scope(deps: Deps, person_id: int, roles: list[Role], chat_id: int,
                        group: bool) -> Scope:
    async with deps.db.read() as conn:
        return await scope_for(conn, person_id, roles, chat_id=chat_id, group=group)


async def ticket_for_message(deps: Deps, chat_id: int, message_id: int) -> int | None:
    async with deps.db.read() as conn:
        return await outbox.ticket_for_message(conn, chat_id, message_id)


async def houses(deps: Deps) -> list[House]:
    async with deps.db.read() as conn:
        return await places.houses(conn)
