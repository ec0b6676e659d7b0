"""The 72-hour clock as pure functions: pause, resume, reopen, transfer, catch-up, display."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import sla
from bot.domain.sla import BREACH, ESCALATE2, SlaState, describe, due_actions
from bot.i18n import translator
from bot.ui.jalali import format_datetime, format_duration

T0 = datetime(2026, 3, 19, 20, 0, tzinfo=UTC)   # just before Nowruz: an old DST switch day
H = timedelta(hours=1)
REMINDERS = [24, 6]


def plan(now: datetime, due: datetime = T0 + 72 * H, **kw: object) -> sla.Plan:
    args: dict[str, object] = {"paused_at": None, "first_response_at": None, "closed": False,
                               "reminder_hours": REMINDERS, "second_escalation_hours": 24,
                               "done": {}}
    args.update(kw)
    return due_actions(due, now, **args)  # type: ignore[arg-type]


def test_initial_due_and_first_check_is_the_24h_reminder() -> None:
    due = sla.initial_due(T0, 72)
    assert due - T0 == 72 * H
    assert sla.next_check(due, REMINDERS, T0) == due - 24 * H
    assert sla.next_check(due, REMINDERS, due - 10 * H) == due - 6 * H
    assert sla.next_check(due, REMINDERS, due - H) == due


def test_pause_and_resume_add_the_paused_time_back() -> None:
    due = sla.initial_due(T0, 72)
    paused = sla.on_pause(T0 + 10 * H)
    assert paused == {"paused_at": T0 + 10 * H, "sla_next_at": None}
    resumed = sla.on_resume(T0 + 10 * H, due, None, REMINDERS, T0 + 40 * H)
    assert resumed["due_at"] == due + 30 * H
    assert resumed["paused_at"] is None
    assert resumed["sla_next_at"] == due + 30 * H - 24 * H
    # A paused ticket gets nothing from the sweep and shows the frozen time left.
    assert plan(due + 5 * H, paused_at=T0 + 10 * H) == sla.Plan((), None)
    assert describe(due, T0 + 50 * H, T0 + 10 * H, None) == (SlaState.PAUSED, 62 * H)
    # Resuming something not paused changes nothing.
    assert sla.on_resume(None, due, None, REMINDERS, T0) == {}


def test_resume_after_answer_does_not_rearm_reminders() -> None:
    changes = sla.on_resume(T0 + H, T0 + 72 * H, T0 + 2 * H, REMINDERS, T0 + 3 * H)
    assert "sla_next_at" not in changes


def test_reopen_starts_a_new_window_and_reply_meets_it() -> None:
    now = T0 + 200 * H
    changes = sla.on_reopen(1, 72, REMINDERS, now)
    assert changes["window_no"] == 2 and changes["due_at"] == now + 72 * H
    assert changes["first_response_at"] is None and changes["sla_next_at"] == now + 48 * H
    assert sla.on_public_reply(None, now) == {"first_response_at": now, "sla_next_at": None}
    assert sla.on_public_reply(now, now + H) == {}
    assert sla.on_close(now)["sla_next_at"] is None


def test_transfer_keeps_the_deadline() -> None:
    assert sla.on_transfer() == {}
    due = T0 + 72 * H
    # After a transfer the same due_at drives the same plan.
    assert plan(due - 24 * H, due=due).actions == ("remind_24",)


def test_reminders_breach_and_second_escalation_in_order() -> None:
    due = T0 + 72 * H
    assert plan(due - 25 * H) == sla.Plan((), due - 24 * H)
    assert plan(due - 24 * H) == sla.Plan(("remind_24",), due - 6 * H)
    done = {"remind_24": due - 24 * H}
    assert plan(due - 6 * H, done=done).actions == ("remind_6",)
    done["remind_6"] = due - 6 * H
    assert plan(due - H, done=done) == sla.Plan((), due)
    assert plan(due, done=done) == sla.Plan((BREACH,), due + 24 * H)
    done[BREACH] = due
    assert plan(due + 23 * H, done=done) == sla.Plan((), due + 24 * H)
    assert plan(due + 24 * H, done=done).actions == (ESCALATE2,)
    done[ESCALATE2] = due + 24 * H
    assert plan(due + 100 * H, done=done) == sla.Plan((), None)


def test_catch_up_after_downtime_sends_no_burst() -> None:
    due = T0 + 72 * H
    # Down from before T-24h until T-3h: only the T-6h reminder, the T-24h one is stale.
    late = plan(due - 3 * H)
    assert late.actions == ("remind_6",) and late.skipped == ("remind_24",)
    # Down until 30 h after the deadline: one escalation now, the second one a day later.
    overdue = plan(due + 30 * H)
    assert overdue.actions == (BREACH,) and set(overdue.skipped) == {"remind_24", "remind_6"}
    assert overdue.next_at == due + 54 * H


def test_answered_or_closed_tickets_need_nothing() -> None:
    assert plan(T0 + 100 * H, first_response_at=T0 + H) == sla.Plan((), None)
    assert plan(T0 + 100 * H, closed=True) == sla.Plan((), None)


def test_describe_states() -> None:
    due = T0 + 72 * H
    assert describe(due, due - 5 * H, None, None) == (SlaState.DUE, 5 * H)
    assert describe(due, due + 3 * H, None, None) == (SlaState.OVERDUE, 3 * H)
    assert describe(due, due + 3 * H, None, due)[0] is SlaState.ANSWERED


def test_tehran_time_without_dst() -> None:
    # Iran dropped DST in 2022: 72 hours across the old Nowruz switch are 72 wall-clock hours,
    # and Tehran is UTC+03:30 all year.
    start = datetime(2026, 3, 20, 20, 30, tzinfo=UTC)
    due = sla.initial_due(start, 72)
    assert format_datetime(start, "en") == "1 Farvardin 1405, 00:00"
    assert format_datetime(due, "en") == "4 Farvardin 1405, 00:00"
    summer = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    assert format_datetime(summer, "en").endswith("12:00")
    assert format_datetime(due, "fa") == "۴ فروردین ۱۴۰۵، ساعت ۰۰:۰۰"
    assert format_duration(5 * H, "fa") == "۵ ساعت"
    assert translator("fa").digits(72) == "۷۲"
