"""One classifier for every Bot API failure: what a caller (the outbox worker, a direct reply,
the priority sender) does about it.

- 400 "message is not modified" -> DONE: it is a success (also "query is too old": a
  button press answered after a restart, or forged: nothing is left to answer);
- 429 Too Many Requests -> RETRY_AFTER: wait `retry_after`; never counts as an attempt;
- 5xx, connection errors, timeouts -> TRANSIENT: retry with capped backoff for the
  message's lifetime (`bot.domain.delivery`);
- 403 (blocked, kicked, deactivated) -> UNREACHABLE: the person is recorded unreachable
  (shown to staff);
- 404 / "method not found" -> UNKNOWN_METHOD: an optional call is switched off (one log line);
- 400 "unknown parameter x" for an optional parameter -> UNKNOWN_PARAMETER: sent again
  without it;
- any other 4xx -> REJECTED: the message fails, recorded, one alert.

Bot-API-compatible servers (Bale, a local Bot API server) word some errors differently; the
patterns below are case-insensitive and match both. No I/O here: a pure function plus a small
in-memory switchboard of optional calls, so it can be used from any sending path.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

log = logging.getLogger(__name__)


class Verdict(StrEnum):
    DONE = "done"
    RETRY_AFTER = "retry_after"
    TRANSIENT = "transient"
    UNREACHABLE = "unreachable"
    UNKNOWN_METHOD = "unknown_method"
    UNKNOWN_PARAMETER = "unknown_parameter"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Classified:
    verdict: Verdict
    retry_after: float = 0.0          # RETRY_AFTER: seconds Telegram asked us to wait
    parameter: str | None = None      # UNKNOWN_PARAMETER: the parameter to drop
    reason: str = ""

    @property
    def counts_as_attempt(self) -> bool:
        """429 is flow control, not a failure: it never uses up a message's chances."""
        return self.verdict is not Verdict.RETRY_AFTER


# A double tap, the same page twice; a button press answered too late (after a restart) or
# forged: nothing is left to do.
_NOT_MODIFIED = re.compile(r"message is not modified|query is too old|query id is invalid",
                           re.I)
_UNKNOWN_METHOD = re.compile(r"method not found|not found: method|unknown method|"
                             r"method .* (?:is )?not (?:supported|implemented)|^not found$", re.I)
# "Bad Request: unknown parameter foo", "can't parse reply_markup", "field "x" is unknown",
# Bale's "unsupported parameter: x"; the name is the first word that looks like one.
_UNKNOWN_PARAMETER = re.compile(
    r"(?:unknown|unsupported|unexpected|unrecognized) (?:parameter|field|argument)s?"
    r"[\s:\"'`]*([a-z_]+)|can't parse ([a-z_]+)|([a-z_]+)[\"'`]? (?:is|are) (?:unknown|"
    r"not supported)", re.I)
_STATUS = re.compile(r"\((\d{3})\)")
# Words that say a NetworkError came from a 4xx the client library did not map.
_CLIENT_ERROR = re.compile(r"\b4(?:0[05-9]|1\d|2[0-8]|[3-9]\d)\b|request entity too large|"
                           r"payload too large|method not allowed|unprocessable", re.I)


def status_of(error: TelegramError) -> int | None:
    """The HTTP status when the message carries it ("Bad Gateway (502)")."""
    found = _STATUS.search(str(error))
    return int(found.group(1)) if found else None


def classify(error: BaseException, *, optional_parameters: frozenset[str] = frozenset()
             ) -> Classified:
    """What to do about `error`. `optional_parameters` are the ones the call can do without
    (only those are dropped on an "unknown parameter" answer; otherwise REJECTED)."""
    text = str(error)
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
        return Classified(Verdict.RETRY_AFTER, retry_after=float(seconds), reason=text)
    if isinstance(error, Forbidden):
        return Classified(Verdict.UNREACHABLE, reason=text)
    if isinstance(error, EndPointNotFound):
        return Classified(Verdict.UNKNOWN_METHOD, reason=text)
    if isinstance(error, InvalidToken):
        # 404 on a method call (the token was good at start) means the method is unknown.
        return Classified(Verdict.UNKNOWN_METHOD if "not found" in text.lower()
                          else Verdict.REJECTED, reason=text)
    if isinstance(error, BadRequest):
        if _NOT_MODIFIED.search(text):
            return Classified(Verdict.DONE, reason=text)
        if _UNKNOWN_METHOD.search(text):
            return Classified(Verdict.UNKNOWN_METHOD, reason=text)
        found = _UNKNOWN_PARAMETER.search(text)
        if found:
            name = next(g for g in found.groups() if g).lower()
            if name in optional_parameters:
                return Classified(Verdict.UNKNOWN_PARAMETER, parameter=name, reason=text)
        return Classified(Verdict.REJECTED, reason=text)
    if isinstance(error, ChatMigrated | Conflict):
        return Classified(Verdict.REJECTED, reason=text)
    if isinstance(error, TimedOut):
        return Classified(Verdict.TRANSIENT, reason=text)
    if isinstance(error, NetworkError):
        status = status_of(error)
        if (status is not None and 400 <= status < 500) or (
                status is None and _CLIENT_ERROR.search(text)):
            return Classified(Verdict.REJECTED, reason=text)
        return Classified(Verdict.TRANSIENT, reason=text)
    if isinstance(error, TelegramError):
        return Classified(Verdict.REJECTED, reason=text)
    if isinstance(error, OSError | TimeoutError):
        return Classified(Verdict.TRANSIENT, reason=text)
    return Classified(Verdict.REJECTED, reason=text)


# Calls the bot can live without, and parameters it can drop, on a server that lacks them
# (Bale, older Bot API servers). Required calls (sendMessage, getUpdates, …) are never
# switched off.
OPTIONAL_METHODS = frozenset({
    # Only calls whose result the bot does not read (True stands in for it).
    "setmycommands", "deletemycommands", "setchatmenubutton", "sendchataction",
    "setmessagereaction", "setmydescription", "setmyshortdescription", "setmyname",
    "answercallbackquery", "deletemessage", "pinchatmessage", "unpinchatmessage",
})
OPTIONAL_PARAMETERS = frozenset({
    "link_preview_options", "disable_web_page_preview", "message_effect_id",
    "allow_paid_broadcast", "protect_content", "disable_notification", "reply_parameters",
    "business_connection_id", "message_thread_id", "show_caption_above_media",
    "language_code", "scope", "cache_time", "entities", "caption_entities",
    "allow_sending_without_reply", "direct_messages_topic_id", "suggested_post_parameters",
})


class OptionalCalls:
    """Optional Bot API methods switched off after the server said it does not know them;
    one log line each. In memory: a restart tries them again (the server may be updated)."""

    def __init__(self) -> None:
        self._off: set[str] = set()
        self._dropped: dict[str, set[str]] = {}

    @staticmethod
    def is_optional(method: str) -> bool:
        return method.lower() in OPTIONAL_METHODS

    def enabled(self, method: str) -> bool:
        return method.lower() not in self._off

    def switch_off(self, method: str, reason: str) -> None:
        if method.lower() not in self._off:
            self._off.add(method.lower())
            log.warning("the Bot API server does not know %s (%s); that optional call is "
                        "switched off until restart", method, reason)

    def dropped(self, method: str) -> frozenset[str]:
        return frozenset(self._dropped.get(method.lower(), ()))

    def drop_parameter(self, method: str, parameter: str) -> None:
        seen = self._dropped.setdefault(method.lower(), set())
        if parameter not in seen:
            seen.add(parameter)
            log.warning("the Bot API server does not accept %s in %s; sent without it from "
                        "now on", parameter, method)
