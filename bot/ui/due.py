"""What people are told about a deadline: a concrete moment (weekday, Jalali date, time),
and the holidays that moved an office-time deadline later."""

from __future__ import annotations

from bot.domain.models import Ticket
from bot.domain.sla import ClockKind
from bot.domain.workcal import WorkCalendar, holiday_moved
from bot.i18n import Translator
from bot.ui.jalali import format_due


def due_moment(tr: Translator, ticket: Ticket, tz: str) -> str:
    return format_due(ticket.due_at, tr.locale, tz)


def holiday_names(tr: Translator, ticket: Ticket, calendar: WorkCalendar | None) -> list[str]:
    """Names of the holidays between filing and an office-time deadline (they moved it)."""
    if calendar is None or ticket.sla_clock != ClockKind.OFFICE.value:
        return []
    names = [h.name(tr.locale) for _d, h in holiday_moved(calendar, ticket.window_started_at,
                                                           ticket.due_at)]
    return list(dict.fromkeys(names))


def holiday_note(tr: Translator, ticket: Ticket, calendar: WorkCalendar | None) -> str | None:
    """"Offices are closed before then for …" when a holiday moved the deadline."""
    names = holiday_names(tr, ticket, calendar)
    if not names:
        return None
    joined = "، ".join(names) if tr.locale == "fa" else ", ".join(names)
    return tr._("🗓 The offices are closed before then ({holidays}), so the deadline is "
                "later.").format(holidays=joined)
