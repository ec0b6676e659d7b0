"""Pure rules: the ticket state machine and callback data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.tickets import OPEN_STATUSES, Action, Status, TransitionError, allowed, next_status
from bot.ui import callbacks


def test_happy_path() -> None:
    status = Status.NEW
    for action, expected in [(Action.TAKE, Status.IN_PROGRESS),
                             (Action.ASK, Status.AWAITING_RESIDENT),
                             (Action.RESIDENT_MESSAGE, Status.IN_PROGRESS),
                             (Action.REPLY, Status.ANSWERED),
                             (Action.CLOSE, Status.CLOSED),
                             (Action.REOPEN, Status.REOPENED)]:
        status = next_status(status, action)
        assert status is expected


@pytest.mark.parametrize("action", [Action.TAKE, Action.REPLY, Action.ASK, Action.TRANSFER,
                                    Action.CLOSE, Action.WITHDRAW, Action.RESIDENT_MESSAGE])
def test_closed_tickets_refuse_work(action: Action) -> None:
    with pytest.raises(TransitionError):
        next_status(Status.CLOSED, action)


def test_only_closed_tickets_reopen_or_get_rated() -> None:
    for status in OPEN_STATUSES:
        assert not allowed(status, Action.REOPEN)
        assert not allowed(status, Action.RATE)
    assert allowed(Status.CLOSED, Action.RATE)


def test_notes_never_change_status() -> None:
    for status in Status:
        assert next_status(status, Action.NOTE) is status


def test_callback_roundtrip_and_limits() -> None:
    data = callbacks.build("ticket", "take", 123)
    assert data == "ticket:take:123"
    parsed = callbacks.parse(data)
    assert parsed is not None and parsed.int_arg() == 123
    with pytest.raises(ValueError):
        callbacks.build("ticket", "take", "x" * 70)
    with pytest.raises(ValueError):
        callbacks.build("ticket", "take", "a:b")
    assert callbacks.parse("garbage") is None
    assert callbacks.parse(None) is None
    assert callbacks.parse("x" * 65) is None


@given(st.text(max_size=80))
def test_parse_never_raises(data: str) -> None:
    parsed = callbacks.parse(data)
    if parsed is not None:
        assert parsed.feature and parsed.action
