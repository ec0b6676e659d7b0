"""How long the outbox keeps trying a message, and which go first (pure rules).

A transient failure (5xx, a lost connection, a timeout) never drops a message: it is retried
with capped backoff until its lifetime ends. 429 is flow control and never counts.

| outbox kind                          | lifetime                         | priority |
| ------------------------------------ | -------------------------------- | -------- |
| receipt (the tracking code)          | 7 days                           | 0 first  |
| to residents (answers, status, late) | 7 days                           | 1        |
| reminders                            | until the deadline they remind of | 2       |
| digest                               | until the next digest (1 day)    | 2        |
| everything else                      | 7 days                           | 2        |
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

RECEIPT = "receipt"
ALERT = "alert"
DEFAULT_LIFETIME = timedelta(days=7)
DIGEST_LIFETIME = timedelta(days=1)
REMINDER_FALLBACK = timedelta(days=1)
# Outbox kinds of messages to residents (`notify_resident` callers, the SLA apology).
RESIDENT_KINDS = frozenset({"status", "close", "update", "reply", "ask", "sla_late"})


def expires_at(kind: str, payload: dict[str, Any], created_at: datetime) -> datetime:
    """When the outbox stops retrying a message of this kind (then it is failed, logged)."""
    if kind == "digest":
        return created_at + DIGEST_LIFETIME
    if kind == "sla_reminder":
        due = (payload.get("args") or {}).get("due")
        if isinstance(due, str):
            try:
                moment = datetime.fromisoformat(due)
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is not None:
                return max(moment, created_at)
        return created_at + REMINDER_FALLBACK
    return created_at + DEFAULT_LIFETIME


def priority(kind: str) -> int:
    """Lower goes first when several chats are ready at once."""
    if kind == RECEIPT:
        return 0
    if kind in RESIDENT_KINDS or kind.startswith("resident"):
        return 1
    return 2


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, …): doubling, capped."""
    return float(min(base * 2 ** max(attempt - 1, 0), cap))


# The receipt (tracking code) is queued with the ticket and held this long: the handler's
# direct reply normally arrives first and marks it sent; after a crash the outbox sends it.
RECEIPT_GRACE = timedelta(seconds=20)


def receipt_key(ticket_id: int) -> str:
    return f"receipt:{ticket_id}"
