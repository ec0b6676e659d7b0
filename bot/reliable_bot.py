"""The Bot every call goes through (handlers' direct replies, the outbox worker, jobs):
the sender-side rules of `bot.telegram_errors`, applied once for every Bot API call.

- texts and captions are cut to Telegram's limits, counted in UTF-16 code units (4096 for a
  text, 1024 for a caption); the outbox splits long texts into parts before they get here;
- "message is not modified" (a double tap, the same page twice) is a success;
- an optional call the server does not know is switched off (one log line) and answered
  as done; an optional parameter it does not accept is dropped and the call sent again;
- send timeouts are longer than a slow server's answer time (`SEND_TIMEOUTS`), so a slow
  answer is not retried while the first request is still in flight;
- every batch getUpdates returns is kept in the inbox (`bot/inbox.py`) before PTB gets it,
  so before Telegram is told (the next offset) that it arrived.
"""

from __future__ import annotations

import asyncio
import html
import re
from typing import Any, Protocol

from telegram.ext import ExtBot

from bot.domain.limits import CAPTION_LIMIT, TEXT_LIMIT, trim, utf16_len
from bot.fence import FENCE
from bot.telegram_errors import OPTIONAL_PARAMETERS, OptionalCalls, Verdict, classify

# Seconds. Telegram answers within a few seconds even when slow; a read timeout shorter
# than that makes a client retry a message that is still being delivered (a duplicate).
SEND_TIMEOUTS = {"connect_timeout": 10.0, "read_timeout": 30.0, "write_timeout": 30.0,
                 "pool_timeout": 10.0}   # keyword arguments of `metrics.counting_request`

_TAG = re.compile(r"<[^>]+>")
POPUP_LIMIT = 200          # answerCallbackQuery's text


def fit_lengths(data: dict[str, Any], endpoint: str = "sendMessage") -> None:
    """Cut `text` / `caption` parameters to Telegram's limits, in place. An HTML text that is
    too long is sent as plain text (cutting HTML could leave a tag open)."""
    text_limit = POPUP_LIMIT if endpoint.lower() == "answercallbackquery" else TEXT_LIMIT
    for key, limit in (("text", text_limit), ("caption", CAPTION_LIMIT)):
        value = data.get(key)
        # at most two UTF-16 units a character: a short text needs no counting
        if not isinstance(value, str) or len(value) * 2 <= limit or utf16_len(value) <= limit:
            continue
        if data.get("parse_mode"):
            value = html.unescape(_TAG.sub("", value))
            data.pop("parse_mode", None)
        data[key] = trim(value, limit)


class UpdateStore(Protocol):
    async def store(self, updates: list[dict[str, Any]]) -> None: ...


class ReliableBot(ExtBot[Any]):
    """`ExtBot` with the sender-side rules above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._optional_calls = OptionalCalls()
        self._inbox: UpdateStore | None = None    # set by the application (bot/app.py)

    def keep_updates_in(self, inbox: UpdateStore) -> None:
        """Every fetched batch goes to `inbox.store` before PTB gets it."""
        self._inbox = inbox

    @property
    def optional_calls(self) -> OptionalCalls:
        return self._optional_calls

    async def _do_post(self, endpoint: str, data: dict[str, Any], **kwargs: Any
                       ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        polling = endpoint == "getUpdates"
        if polling and not FENCE.acting:
            await asyncio.sleep(1)      # not leading: poll nothing; the process is on its way out
            return []
        result = await self._post_with_rules(endpoint, data, **kwargs)
        if polling and isinstance(result, list) and result:
            if not FENCE.acting:
                # A leader frozen past its lease can wake with a poll already on the wire:
                # what it brings is neither kept nor handled (Telegram gives it to the new
                # leader again, since only the next poll would confirm it).
                return []
            if self._inbox is not None:
                await self._inbox.store(result)
        return result

    async def _post_with_rules(self, endpoint: str, data: dict[str, Any], **kwargs: Any
                               ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        calls = self._optional_calls
        if not calls.enabled(endpoint):
            return True
        for name in calls.dropped(endpoint):
            data.pop(name, None)
        fit_lengths(data, endpoint)
        while True:
            try:
                return await super()._do_post(endpoint, data, **kwargs)
            except Exception as exc:
                found = classify(exc, optional_parameters=OPTIONAL_PARAMETERS)
                if found.verdict is Verdict.DONE:
                    return True
                if found.verdict is Verdict.UNKNOWN_METHOD and calls.is_optional(endpoint):
                    calls.switch_off(endpoint, found.reason)
                    return True
                if (found.verdict is Verdict.UNKNOWN_PARAMETER and found.parameter
                        and found.parameter in data):
                    calls.drop_parameter(endpoint, found.parameter)
                    data.pop(found.parameter, None)
                    continue
                raise

