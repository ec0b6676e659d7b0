"""`/stats` and `/export` in words: the figures as short lines with Persian digits, the period
as a Jalali range, captions of the chart and of the export files."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.periods import Period
from bot.domain.reports import OUTCOMES, Figures, StatsReport
from bot.i18n import N_, Translator, localized
from bot.ui.jalali import format_date, format_duration

TEXT_LIMIT = 3900            # Telegram's 4,096 characters, with room for the last line

OUTCOME_WORD: dict[str, str] = {
    "resolved": N_("resolved"),
    "duplicate": N_("duplicate"),
    "not_our_responsibility": N_("not ours"),
    "not_possible": N_("not possible"),
    "withdrawn": N_("withdrawn"),
    "": N_("no reason"),
}
assert set(OUTCOME_WORD) == {*OUTCOMES, ""}


def period_text(tr: Translator, period: Period) -> str:
    """«۱ آذر ۱۴۰۵ تا ۳۰ آذر ۱۴۰۵» (one day: just the date)."""
    tz = str(period.tz)
    first = format_date(period.start, tr.locale, tz)
    last = format_date(period.end - timedelta(hours=12), tr.locale, tz)
    if first == last:
        return first
    return tr._("{first} to {last}").format(first=first, last=last)


def percent(tr: Translator, share: float | None) -> str:
    if share is None:
        return "—"
    value = f"{round(share * 100)}"
    return tr.digits(value) + "٪" if tr.locale == "fa" else value + "%"


def _decimal(tr: Translator, value: float) -> str:
    text = f"{value:.1f}"
    return tr.digits(text).replace(".", "٫") if tr.locale == "fa" else text


def _median(tr: Translator, figures: Figures) -> str:
    seconds = figures.median_first_response_s
    return "—" if seconds is None else format_duration(timedelta(seconds=seconds), tr.locale)


def _rating(tr: Translator, figures: Figures) -> str:
    average = figures.rating_average
    if average is None:
        return "—"
    return tr._("{average} of 5 ({count})").format(average=_decimal(tr, average),
                                                   count=tr.digits(figures.rating_count))


def figure_lines(tr: Translator, f: Figures) -> list[str]:
    """Two or three lines: counts; closed by outcome (when any); in time, median, rating."""
    d = tr.digits
    lines = [tr._("received {received} · answered {answered} · closed {closed} · open {open} "
                  "· overdue {overdue}").format(
        received=d(f.received), answered=d(f.answered), closed=d(f.closed_total),
        open=d(f.open), overdue=d(f.overdue))]
    if f.from_visits:
        lines[0] += tr._(", from field visits {n}").format(n=d(f.from_visits))
    if f.closed_total:
        items = [f"{tr._(OUTCOME_WORD[r])} {d(f.closed[r])}"
                 for r in (*OUTCOMES, "") if f.closed.get(r)]
        lines.append(tr._("closed as: {items}").format(items=" · ".join(items)))
    lines.append(tr._("in time {share} · median first answer {median} · rating {rating} · "
                      "reopened {reopened}").format(
        share=percent(tr, f.in_time_share), median=_median(tr, f), rating=_rating(tr, f),
        reopened=percent(tr, f.reopened_share)))
    return lines


def stats_text(tr: Translator, report: StatsReport) -> str:
    head = tr._("📊 Requests filed {period} ({days} days)").format(
        period=period_text(tr, report.period), days=tr.digits(report.period.days))
    if report.empty:
        return head + "\n" + tr._("No requests in this period.")
    blocks: list[list[str]] = []
    if len(report.houses) > 1:
        blocks.append([tr._("All houses"), *figure_lines(tr, report.total)])
    for house in report.houses:
        name = localized(tr, house.house.name_fa, house.house.name_en)
        if len(house.areas) > 1:
            blocks.append([tr._("{house} · all neighbourhoods").format(house=name),
                           *figure_lines(tr, house.figures)])
        for area in house.areas:
            where = localized(tr, area.neighbourhood.name_fa, area.neighbourhood.name_en)
            blocks.append([f"{name} · {where}", *figure_lines(tr, area.figures)])
    out, size = [head], len(head)
    for i, block in enumerate(blocks):
        text = "\n".join(block)
        if size + len(text) + 2 > TEXT_LIMIT:
            out.append(tr._("… and {n} more; /export has every request.").format(
                n=tr.digits(len(blocks) - i)))
            break
        out.append(text)
        size += len(text) + 2
    return "\n\n".join(out)


def chart_caption(tr: Translator) -> str:
    return tr._("Requests per Jalali week (Saturday to Friday) by house, and the share "
                "answered within the window.")


def export_caption(tr: Translator, period: Period, rows: int, part: int, parts: int) -> str:
    text = tr._("{count} requests filed {period}.").format(
        count=tr.digits(rows), period=period_text(tr, period))
    if parts > 1:
        text += "\n" + tr._("Part {part} of {parts}.").format(part=tr.digits(part),
                                                               parts=tr.digits(parts))
    return text


def export_progress(tr: Translator, done: int, total: int) -> str:
    return tr._("⏳ Preparing the export: {done} of {total} requests…").format(
        done=tr.digits(done), total=tr.digits(total))


def export_done(tr: Translator, rows: int) -> str:
    return tr._("✅ The export is ready: {count} requests.").format(count=tr.digits(rows))


def weekly_caption(tr: Translator) -> str:
    return tr._("📈 This week's picture of your area: requests per week (Saturday to Friday) "
                "by house over the last 12 weeks, and the share answered within the window.")
