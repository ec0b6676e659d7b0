"""The ticket state machine: honest states and which actions may move between them.

Pure logic, no Telegram and no SQL, so the rules can be read in one screen and unit-tested.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    NEED = "need"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"


class Status(StrEnum):
    NEW = "new"                          # filed, waiting in the house queue, nobody took it
    IN_PROGRESS = "in_progress"          # a staff member took it
    AWAITING_RESIDENT = "awaiting_resident"  # staff asked a question; SLA clock paused
    ANSWERED = "answered"                # staff answered publicly; not closed yet
    REOPENED = "reopened"                # resident said "not resolved"; back in the queue
    CLOSED = "closed"                    # see CloseReason


OPEN_STATUSES = frozenset(s for s in Status if s is not Status.CLOSED)


class CloseReason(StrEnum):
    RESOLVED = "resolved"
    DUPLICATE = "duplicate"              # linked to the original ticket
    NOT_OUR_RESPONSIBILITY = "not_our_responsibility"  # with where to go instead
    NOT_POSSIBLE = "not_possible"
    WITHDRAWN = "withdrawn"              # by the resident


class Action(StrEnum):
    FILE = "file"
    TAKE = "take"
    REPLY = "reply"                      # public staff answer
    ASK = "ask"                          # question to the resident (pauses SLA)
    RESIDENT_MESSAGE = "resident_message"  # follow-up or answer from the resident
    NOTE = "note"                        # internal, never shown to residents
    TRANSFER = "transfer"                # to another house (keeps the deadline)
    ROUTE = "route"                      # mayor re-routes before anyone works on it
    CLOSE = "close"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"
    RATE = "rate"
    SLA = "sla"                          # reminder / escalation records
    URGENCY = "urgency"                  # the mayor marks it urgent (or not): new deadline


class TransitionError(Exception):
    """The action is not allowed in the ticket's current status."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"{action} is not allowed when the ticket is {status}")
        self.status = status
        self.action = action


_WORKING = {Status.NEW, Status.IN_PROGRESS, Status.AWAITING_RESIDENT, Status.ANSWERED,
            Status.REOPENED}

# action -> {from status: to status}; None as target keeps the current status.
_TRANSITIONS: dict[Action, dict[Status, Status | None]] = {
    Action.TAKE: {s: Status.IN_PROGRESS for s in _WORKING},
    Action.REPLY: {s: Status.ANSWERED for s in _WORKING},
    Action.ASK: {s: Status.AWAITING_RESIDENT for s in _WORKING},
    Action.RESIDENT_MESSAGE: {
        Status.NEW: None, Status.IN_PROGRESS: None, Status.ANSWERED: None,
        Status.REOPENED: None, Status.AWAITING_RESIDENT: Status.IN_PROGRESS,
    },
    Action.NOTE: {s: None for s in Status},
    Action.TRANSFER: {s: Status.NEW for s in _WORKING},
    Action.ROUTE: {s: Status.NEW for s in _WORKING},
    Action.CLOSE: {s: Status.CLOSED for s in _WORKING},
    Action.WITHDRAW: {s: Status.CLOSED for s in _WORKING},
    Action.REOPEN: {Status.CLOSED: Status.REOPENED},
    Action.RATE: {Status.CLOSED: None},
    Action.SLA: {s: None for s in _WORKING},
    Action.URGENCY: {s: None for s in _WORKING},
}


def next_status(status: Status, action: Action) -> Status:
    """The status after `action`, or TransitionError if the action does not apply."""
    table = _TRANSITIONS.get(action, {})
    if status not in table:
        raise TransitionError(status, action)
    target = table[status]
    return status if target is None else target


def allowed(status: Status, action: Action) -> bool:
    return status in _TRANSITIONS.get(action, {})
