"""Every notice kind renders in both languages from JSON arguments alone (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.domain.notices import NoticeKind, digest_day, when
from bot.i18n import translator
from bot.services.notify import Ref
from bot.ui.notices import RENDERERS, render

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
NAMES = {(Ref.HOUSE, 1): ("خانه بهزیستی", "Welfare House"),
         (Ref.HOUSE, 2): ("خانه امداد", "Relief House"),
         (Ref.NEIGHBOURHOOD, 3): ("قائمیه", "Ghaemieh"),
         (Ref.CATEGORY, 4): ("مسکن", "Housing")}
PLACE = {"code": "ABC123", "due": when(NOW + timedelta(hours=24)), "at": when(NOW),
         "neighbourhood_id": 3, "house_id": 1}
ARGS: dict[NoticeKind, dict[str, Any]] = {
    NoticeKind.NEW_TICKET: {**PLACE, "new": True, "ticket_kind": "need", "category_id": 4,
                            "unowned": True, "can_take": True},
    NoticeKind.IN_YOUR_QUEUE: {**PLACE, "new": False, "ticket_kind": "complaint",
                               "category_id": 4, "unowned": False, "can_take": False},
    NoticeKind.FOLLOWUP: {"code": "ABC123", "body": "hello", "attachments": 2},
    NoticeKind.WITHDRAWN: {"code": "ABC123"},
    NoticeKind.TAKEN: {"code": "ABC123", "rate": False},
    NoticeKind.ANSWER: {"code": "ABC123", "text": "done", "rate": False},
    NoticeKind.ANSWER_COPY: {"code": "ABC123", "text": "see the photo", "rate": False,
                             "copy_from": [5, 7]},
    NoticeKind.QUESTION: {"code": "ABC123", "text": "where?", "rate": False},
    NoticeKind.MOVED: {"code": "ABC123", "from_house_id": 1, "to_house_id": 2, "rate": False},
    NoticeKind.CLOSED: {"code": "ABC123", "reason": "duplicate", "original": "DEF456",
                        "message": "", "rate": True},
    NoticeKind.REOPENED: {"code": "ABC123", "due": PLACE["due"], "rate": False},
    NoticeKind.UPDATE: {"code": "ABC123", "status": "closed", "close_reason": "resolved",
                        "body": "ok", "due": PLACE["due"], "rate": True},
    NoticeKind.SLA_REMINDER: PLACE,
    NoticeKind.SLA_ESCALATION: {**PLACE, "hours": 72, "second": True, "assignee": "Ali"},
    NoticeKind.SLA_RESIDENT_LATE: {"code": "ABC123", "hours": 72},
    NoticeKind.DIGEST: {"at": when(NOW), "open": 3, "due_soon": 1, "overdue": 1,
                        "oldest_overdue": ["ABC123"], "soonest_due": ["DEF456"],
                        "oldest_open": ["ABC123", "DEF456"]},
    NoticeKind.RECEIPT: {"code": "ABC123", "due": when(NOW)},
    NoticeKind.CLAIMED: {"code": "ABC123", "name": "Ali Rezaei"},
    NoticeKind.URGENCY: {"code": "ABC123", "due": PLACE["due"], "urgent": True,
                         "rate": False},
}


def test_sample_arguments_cover_every_kind() -> None:
    assert set(ARGS) == set(NoticeKind) == set(RENDERERS)


@pytest.mark.parametrize("kind", list(NoticeKind))
@pytest.mark.parametrize("locale", ["fa", "en"])
def test_every_kind_renders_from_json_arguments(kind: NoticeKind, locale: str) -> None:
    args = json.loads(json.dumps(ARGS[kind]))          # what the outbox row gives back
    rendered = render(kind, translator(locale), 9, args, NAMES)
    assert "ABC123" in rendered.text
    assert ": ?" not in rendered.text and " ? " not in rendered.text   # every name found
    if locale == "en":
        assert not any("\u0600" <= ch <= "\u06ff" for ch in rendered.text)


def test_a_vanished_reference_item_renders_as_a_question_mark() -> None:
    rendered = render(NoticeKind.SLA_REMINDER, translator("en"), 9, PLACE, {})
    assert "House: ?" in rendered.text


def test_digest_key_day_is_the_earlier_versions_format() -> None:
    assert digest_day(NOW, "Asia/Tehran") == "9 Azar 1405"
