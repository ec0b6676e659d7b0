"""Translated names of statuses, kinds and close reasons, shared by every screen."""

from __future__ import annotations

from bot.domain.tickets import CloseReason, Kind, Status
from bot.i18n import N_, Translator

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


def localized(tr: Translator, name_fa: str, name_en: str) -> str:
    """Reference data carries both names; pick the user's."""
    return name_fa if tr.locale == "fa" else name_en
