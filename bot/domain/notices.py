"""Notifications as typed intents: what happened, to whom, and the facts true at that moment.

A use case queues a `Notice` in the transaction of the change; nothing is rendered then.
The outbox worker renders it when it is sent (`bot.ui.notices`), in the language the
recipient has at that moment. Arguments are JSON values only (ids of reference data, codes,
texts, ISO times), so a row queued today renders tomorrow as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime  # type: ignore[import-untyped, unused-ignore]

PAYLOAD_KEY = "notice"
ARGS_KEY = "args"
# A notice sent as a copy of another message (copyMessage: the staff member's photo, voice
# note or file with the rendered text as its caption): [from_chat_id, message_id] in `args`.
COPY_KEY = "copy_from"


class NoticeKind(StrEnum):
    """One renderer per member (`bot.ui.notices.RENDERERS`). Values are stored: never rename."""

    NEW_TICKET = "new_ticket"              # staff, mayors, groups: a request was filed
    IN_YOUR_QUEUE = "in_your_queue"        # routed, transferred or reopened into a queue
    FOLLOWUP = "followup"                  # staff: the resident wrote on the ticket
    WITHDRAWN = "withdrawn"                # staff: the resident withdrew it
    TAKEN = "taken"                        # resident: someone works on it now
    ANSWER = "answer"                      # resident: a public answer from staff
    ANSWER_COPY = "answer_copy"            # resident: an answer with a photo/voice/file (copy)
    QUESTION = "question"                  # resident: staff ask something (clock paused)
    MOVED = "moved"                        # resident: passed to another house
    CLOSED = "closed"                      # resident: closed, with the rating buttons
    REOPENED = "reopened"                  # resident: staff reopened it
    UPDATE = "update"                      # resident: a generic status update
    SLA_REMINDER = "sla_reminder"          # assignee / house team: deadline is near
    SLA_ESCALATION = "sla_escalation"      # mayor, supervisor, admin chat: deadline missed
    SLA_RESIDENT_LATE = "sla_resident_late"  # resident: we missed the deadline, honestly
    DIGEST = "digest"                      # daily summary per mayor, staff member, group
    RECEIPT = "receipt"                    # resident: the tracking code of a filed request
    CLAIMED = "claimed"                    # filer: the resident of a visit request claimed it
    URGENCY = "urgency"                    # resident: the mayor set or cleared urgency


# Notices to residents: never delayed, but sent without a sound in quiet hours.
RESIDENT_NOTICES = frozenset({
    NoticeKind.TAKEN, NoticeKind.ANSWER, NoticeKind.ANSWER_COPY, NoticeKind.QUESTION,
    NoticeKind.MOVED,
    NoticeKind.CLOSED, NoticeKind.REOPENED, NoticeKind.UPDATE, NoticeKind.SLA_RESIDENT_LATE,
    NoticeKind.URGENCY,
})
# Payload flag of a notice held until the end of quiet hours (`not_before`): the outbox lets
# the chat's later messages pass it instead of waiting behind it.
HELD_KEY = "held"


@dataclass(frozen=True)
class Notice:
    """One message to one chat. `key` is the outbox idempotency key (exactly once per key);
    `kind` the outbox row's kind column (what it is about, for queries and logs)."""

    notice: NoticeKind
    chat_id: int
    key: str
    kind: str
    ticket_id: int | None = None
    args: dict[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None      # held until then (quiet hours); None: now

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {PAYLOAD_KEY: self.notice.value, ARGS_KEY: self.args}
        if self.not_before is not None:
            payload[HELD_KEY] = True
        return payload


def copy_source(payload: dict[str, Any]) -> tuple[int, int] | None:
    """(from_chat_id, message_id) when this notice row is sent as a copy of that message."""
    args = payload.get(ARGS_KEY)
    found = args.get(COPY_KEY) if isinstance(args, dict) else None
    if not found:
        return None
    chat, message = found
    return int(chat), int(message)


def when(moment: datetime) -> str:
    """A moment as a notice argument (aware ISO 8601)."""
    return moment.isoformat()


def parse_when(value: object) -> datetime:
    return datetime.fromisoformat(str(value))


_MONTHS = ("Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar", "Mehr", "Aban",
           "Azar", "Dey", "Bahman", "Esfand")


def digest_day(moment: datetime, tz: str) -> str:
    """The local Jalali day in the digest's idempotency key ("9 Azar 1405"): the key's format
    since the first version, so a digest queued before an upgrade is not sent twice."""
    local = moment.astimezone(ZoneInfo(tz))
    j = jdatetime.date.fromgregorian(date=local.date())
    return f"{int(j.day)} {_MONTHS[int(j.month) - 1]} {int(j.year)}"
