"""Refusals of the use cases in the reader's language."""

from __future__ import annotations

from bot.domain.limits import quote
from bot.domain.tickets import Status
from bot.i18n import Translator
from bot.services.errors import NotFound, Refused
from bot.ui.labels import status_label


def not_found_text(tr: Translator, code: str = "") -> str:
    if code:
        return tr._("No request with code {code} was found.").format(code=quote(code, 20))
    return tr._("This request was not found.")


def refused_text(tr: Translator, exc: Refused) -> str:
    if isinstance(exc, NotFound):
        return not_found_text(tr, exc.code)
    values = dict(exc.values)
    if "status" in values:
        values["status"] = status_label(tr, Status(values["status"]))
    return tr._(exc.message).format(**values)
