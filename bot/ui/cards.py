"""Staff and mayor texts rendered from the use cases' data, in the reader's language: the
ticket card with its history, queue and search lines, /stats and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from bot.domain.models import Ticket
from bot.domain.tickets import Action, CloseReason
from bot.domain.workcal import WorkCalendar
from bot.i18n import N_, Translator
from bot.services.staff import CardView, EventView, ExportRow, ListItem, StatLine
from bot.ui.jalali import format_datetime, format_duration
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


def stats_text(tr: Translator, lines: list[StatLine]) -> str:
    if not lines:
        return tr._("No requests yet.")
    out = [tr._("📊 Requests by house and neighbourhood:")]
    for line in lines:
        median = (format_duration(line.median_first_response, tr.locale)
                  if line.median_first_response is not None else "—")
        share = "—"
        if line.within_window is not None:
            percent = f"{round(line.within_window * 100)}"
            share = tr.digits(percent) + "٪" if tr.locale == "fa" else percent + "%"
        house = localized(tr, line.house.name_fa, line.house.name_en) if line.house else "?"
        n = line.neighbourhood
        out.append(tr._("{house} · {neighbourhood}: open {open}, overdue {overdue}, median "
                        "first answer {median}, answered within the window {share}").format(
            house=house, neighbourhood=localized(tr, n.name_fa, n.name_en) if n else "?",
            open=tr.digits(line.open), overdue=tr.digits(line.overdue), median=median,
            share=share))
        if line.from_visits:
            out[-1] += tr._(", from field visits {n}").format(n=tr.digits(line.from_visits))
    return "\n".join(out)


EXPORT_HEADERS = (N_("code"), N_("filed"), N_("neighbourhood code"), N_("neighbourhood"),
                  N_("house"), N_("category"), N_("type"), N_("status"), N_("close reason"),
                  N_("deadline"), N_("first answer"), N_("closed"), N_("rating"),
                  N_("field visit"), N_("phone"), N_("text"))


def export_csv(tr: Translator, rows: list[ExportRow], tz: str) -> bytes:
    """CSV with a UTF-8 BOM so spreadsheet programs show Persian."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([tr._(c) for c in EXPORT_HEADERS])

    def when(value: datetime | None) -> str:
        return format_datetime(value, tr.locale, tz) if value else ""

    for row in rows:
        t = row.ticket
        writer.writerow([
            t.code, when(t.created_at), row.neighbourhood_code,
            localized(tr, *row.neighbourhood), localized(tr, *row.house),
            localized(tr, *row.category), kind_label(tr, t.kind), status_label(tr, t.status),
            tr._(CLOSE_REASON[t.close_reason]) if t.close_reason else "",
            when(t.due_at), when(t.first_response_at), when(t.closed_at),
            t.rating or "", row.visit, row.phone, t.text,
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
