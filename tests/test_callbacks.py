"""Typed callback data: packed and parsed in one place, ≤ 64 bytes, old data still parses."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.ui import callbacks
from bot.ui.callbacks import CallbackData


class _Act(StrEnum):
    TAKE = "take"
    SHOW = "show"


@dataclass(frozen=True)
class _Card(CallbackData, prefix="zz"):
    action: _Act
    ticket_id: int
    extra: str = ""


@dataclass(frozen=True)
class _Page(CallbackData, prefix="zz", action="q"):
    kind: str
    page: int
    flag: bool = False
    maybe: int | None = None


def test_pack_and_unpack_round_trip() -> None:
    card = _Card(_Act.TAKE, 123)
    assert card.pack() == "zz:take:123:"
    assert callbacks.unpack(card.pack()) == card
    assert _Card.unpack("zz:take:123") == card          # old data without the default field
    page = _Page("mine", 2, True, None)
    assert page.pack() == "zz:q:mine:2:1:"
    assert callbacks.unpack(page.pack()) == page
    assert _Page.unpack("zz:q:mine:0") == _Page("mine", 0)
    assert _Card.unpack(page.pack()) is None             # another class of the same prefix


@pytest.mark.parametrize("data", [None, "", "zz", "zz:take", "zz:take:x", "zz:nope:1",
                                  "zz:q:mine", "zz:q:mine:x", "zz:take:1:a:b", "other:take:1",
                                  "zz:q:mine:1:2", "x" * 65,
                                  "zz:take:99999999999999999999", "zz:take:9223372036854775808"])
def test_stale_or_forged_data_is_none(data: str | None) -> None:
    assert callbacks.unpack(data) is None


def test_too_long_is_refused_when_built() -> None:
    with pytest.raises(ValueError):
        _Card(_Act.SHOW, 1, "x" * 60).pack()


def test_dispatch_table() -> None:
    table = {_Act.TAKE: "took", _Act.SHOW: "showed"}
    assert callbacks.dispatch(table, callbacks.unpack("zz:show:5")) == "showed"
    assert callbacks.dispatch(table, callbacks.unpack("zz:bad:5")) is None


def test_a_namespace_is_registered_once() -> None:
    with pytest.raises(ValueError):
        @dataclass(frozen=True)
        class _Again(CallbackData, prefix="zz"):
            action: _Act


@given(st.text(max_size=80))
def test_unpack_never_raises(data: str) -> None:
    callbacks.unpack(data)


@pytest.mark.parametrize(("old", "typed"), [
    ("st:take:42", "CardButton(action=<CardAction.TAKE: 'take'>, ticket_id=42)"),
    ("st:q:mine:0", "QueuePage(kind='mine', page=0)"),
    ("st:cr:7:not_our_responsibility", "CloseWith(ticket_id=7, reason=<CloseReason."
                                       "NOT_OUR_RESPONSIBILITY: 'not_our_responsibility'>)"),
    ("ticket:show:9", "NoticeButton(action=<NoticeAction.SHOW: 'show'>, ticket_id=9)"),
    ("place:p:3:1", "Province(province_id=3, page=1)"),
    ("place:pv", "Provinces(page=0)"),
    ("place:x", "PlaceCancel()"),
    ("new:ok:" + "a" * 32, "ConfirmFiling(form_id='" + "a" * 32 + "')"),
    ("rate:s:5:4", "Rate(ticket_id=5, stars=4)"),
    ("my:list:2", "MyList(page=2)"),
])
def test_buttons_already_in_chats_still_parse(old: str, typed: str) -> None:
    from bot.ui import buttons  # noqa: F401  (registers the classes)

    item = callbacks.unpack(old)
    assert repr(item) == typed
    assert item is not None and callbacks.unpack(item.pack()) == item
