"""Staff and mayor texts rendered from the use cases' data, in the reader's language: the
ticket card with its history, queue and search lines, /stats and the CSV export."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Ticket
from bot.domain.tickets import Action, CloseReason
from bot.domain.workcal import WorkCalendar
from bot.i18n import N_, Translator
from bot.services.staff import HANDLED_DAYS, CardView, EventView, Handled, ListItem
from bot.ui.jalali import format_datetime
from bot.ui.labels import CLOSE_REASON, kind_label, localized, status_label
from bot.ui.sla_badge import sla_badge

ACTION_LABEL: dict[str, str] = {
    Action.FILE: N_("filed"), Action.TAKE: N_("took it"), Action.REPLY: N_("answered"),
    Action.ASK: N_("asked"), Action.RESIDENT_MESSAGE: N_("resident wrote"),
    Action.NOTE: N_("internal note"), Action.TRANSFER: N_("transferred"),
    Action.ROUTE: N_("re-routed"), Action.CLOSE: N_("closed"),
    Action.WITHDRAW: N_("withdrawn"), Action.REOPEN: N_("reopened"),
    Action.RATE: N_("rated"), Action.SLA: N_("deadline"),
    "claim": N_("claimed by the resident"),
    Action.RATE: N_("rated"), Action.SLA: N_("deadline"), Action.URGENCY: N_("urgency"),
}

ROLE_LABEL: dict[str, str] = {
    "resident": N_("resident"), "mayor": N_("mayor"), "staff": N_("staff"),
    "supervisor": N_("supervisor"), "admin": N_("admin"), "system": N_("system"),
}


def card_text(tr: Translator, view: CardView, tz: str) -> str:
    """The ticket card (with its history when the view has events)."""
    ticket = view.ticket
    lines = [
        tr._("📄 Request {code}").format(code=ticket.code),
        tr._("Status: {status}").format(status=status_label(tr, ticket.status,
                                                            ticket.close_reason)),
        tr._("Neighbourhood: {name}").format(name=localized(tr, view.neighbourhood.name_fa,
                                                            view.neighbourhood.name_en)),
        tr._("Type: {kind} · {category}").format(
            kind=kind_label(tr, ticket.kind),
            category=localized(tr, view.category.name_fa, view.category.name_en)),
        tr._("House: {house}").format(house=localized(tr, view.house.name_fa,
                                                      view.house.name_en)),
        tr._("Filed: {when}").format(when=format_datetime(ticket.created_at, tr.locale, tz)),
        tr._("Deadline: {state}").format(state=sla_badge(tr, ticket, view.now,
                                                         view.calendar)),
    ]
    if ticket.urgent:
        lines.insert(1, tr._("🚨 Urgent: {reason}").format(reason=ticket.urgent_reason or ""))
    if view.assignee_name is not None:
        lines.append(tr._("Taken by: {name}").format(name=view.assignee_name))
    if view.route_reason:
        lines.append(tr._("🔀 The mayor's reason for this house: {reason}").format(
            reason=view.route_reason))
    if view.reopen_reason:
        lines.append(tr._("🔁 Reopened by the resident: {reason}").format(
            reason=view.reopen_reason))
    if view.duplicate_code:
        lines.append(tr._("Duplicate of: {code}").format(code=view.duplicate_code))
    if view.visit is not None:
        lines.append(tr._("🤝 Field visit: {title} · for {name}").format(
            title=view.visit[0], name=view.visit[1]))
    if view.unreachable:
        lines.append(tr._("⚠️ The resident has blocked the bot: messages to them are not "
                          "delivered. Reach them another way."))
    if view.phone_visible:
        lines.append(tr._("Phone: {phone}").format(phone=ticket.phone))
    if view.attachments:
        lines.append(tr.ngettext("📎 {n} attachment", "📎 {n} attachments",
                                 view.attachments).format(n=tr.digits(view.attachments)))
    if view.located:
        lines.append(tr._("📍 location shared"))
    lines += ["", ticket.text]
    if view.events is not None:
        lines += ["", tr._("History:")]
        lines += [event_line(tr, e, tz) for e in view.events]
    return "\n".join(lines)


def event_line(tr: Translator, view: EventView, tz: str) -> str:
    event = view.event
    role = tr._(ROLE_LABEL.get(event.actor_role, event.actor_role))
    label = tr._(ACTION_LABEL.get(event.action, event.action))
    when = format_datetime(event.at, tr.locale, tz)
    line = f"• {when} · {view.actor_name} ({role}) · {label}"
    if not event.public:
        line = "🔒 " + line
    if view.to_house is not None:
        line += " → " + localized(tr, view.to_house.name_fa, view.to_house.name_en)
    if event.action == Action.CLOSE and event.details.get("reason") in set(CloseReason):
        line += " (" + tr._(CLOSE_REASON[CloseReason(event.details["reason"])]) + ")"
        if event.details.get("duplicate_of"):
            line += f" {event.details['duplicate_of']}"
    if event.body and event.action != Action.FILE:
        line += f": {event.body}"
    return line


def list_line(tr: Translator, item: ListItem, now: datetime,
              calendar: WorkCalendar | None = None) -> str:
    """A ticket in a queue or search result: code, status, neighbourhood, deadline, text
    (🚨 first for an urgent request)."""
    ticket: Ticket = item.ticket
    n = item.neighbourhood
    name = localized(tr, n.name_fa, n.name_en) if n else "?"
    short = ticket.text if len(ticket.text) <= 40 else ticket.text[:40] + "…"
    flag = "🚨 " if ticket.urgent and ticket.is_open else ""
    return (f"{flag}{ticket.code} · {status_label(tr, ticket.status)} · {name} · "
            f"{sla_badge(tr, ticket, now, calendar)}\n   {short}")


def handled_lines(tr: Translator, items: list[Handled]) -> list[str]:
    """The mayor's inbox footer: what they already routed or closed, and where it went."""
    if not items:
        return []
    lines = [tr._("✔️ Already handled by you (last {days} days):").format(
        days=tr.digits(HANDLED_DAYS))]
    for item in items:
        code = item.ticket.code
        if item.to_house is not None:
            lines.append(tr._("• {code} → {house}").format(
                code=code, house=localized(tr, item.to_house.name_fa, item.to_house.name_en)))
        elif item.original:
            lines.append(tr._("• {code}: duplicate of {original}").format(
                code=code, original=item.original))
        else:
            lines.append(tr._("• {code}: closed").format(code=code))
    return lines
