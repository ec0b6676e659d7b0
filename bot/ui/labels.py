"""Translated names of statuses, kinds and close reasons, shared by every screen."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.models import House
from bot.domain.tickets import CloseReason, Kind, Status
from bot.i18n import N_, Translator, localized

__all__ = ["CLOSE_REASON", "KIND", "STATUS", "house_choices", "kind_label", "localized",
           "status_label"]

STATUS: dict[Status, str] = {
    Status.NEW: N_("🆕 Received, waiting in the queue"),
    Status.IN_PROGRESS: N_("🛠 In progress"),
    Status.AWAITING_RESIDENT: N_("❓ Waiting for your answer"),
    Status.ANSWERED: N_("💬 Answered"),
    Status.REOPENED: N_("🔁 Reopened"),
    Status.CLOSED: N_("✅ Closed"),
}

KIND: dict[Kind, str] = {
    Kind.NEED: N_("🙋 Need"),
    Kind.COMPLAINT: N_("⚠️ Complaint"),
    Kind.SUGGESTION: N_("💡 Suggestion"),
}

CLOSE_REASON: dict[CloseReason, str] = {
    CloseReason.RESOLVED: N_("resolved"),
    CloseReason.DUPLICATE: N_("duplicate of another request"),
    CloseReason.NOT_OUR_RESPONSIBILITY: N_("not our responsibility"),
    CloseReason.NOT_POSSIBLE: N_("not possible"),
    CloseReason.WITHDRAWN: N_("withdrawn by the resident"),
}


def status_label(tr: Translator, status: Status, reason: CloseReason | None = None) -> str:
    text = tr._(STATUS[status])
    if status is Status.CLOSED and reason is not None:
        text += " — " + tr._(CLOSE_REASON[reason])
    return text


def kind_label(tr: Translator, kind: Kind) -> str:
    return tr._(KIND[kind])


def house_choices(tr: Translator, houses: Iterable[House]) -> str:
    """The houses one can type in a command, as «code (name)» in the reader's language.

    Every message that lists houses uses this with the houses table (loaded from
    data/houses.csv), so a new house is a data row, not a code change."""
    # One house in a list of choices: the code to type and the house's name.
    items = [tr._("{code} ({name})").format(code=h.code, name=localized(tr, h.name_fa,
                                                                        h.name_en))
             for h in houses]
    # Separator between the items of an inline list ("a, b, c").
    return tr._(", ").join(items)
