"""Logging for operators: our lines, never the token, no library chatter at INFO."""

from __future__ import annotations

import logging
import re
import sys
import warnings
from types import TracebackType

from bot.config import Settings

REDACTED = "<BOT_TOKEN>"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes every secret (message, arguments and traceback alike:
    PTB's InvalidToken and httpx's URLs carry the token)."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        parts = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(p) for p in parts)) if parts else None

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern else text


def secrets_of(settings: Settings) -> list[str]:
    """The token, its secret half alone (URL-encoded too) and the webhook secret."""
    found: list[str] = []
    if settings.bot_token is not None:
        token = settings.bot_token.get_secret_value()
        found += [token, token.replace(":", "%3A")]
        if ":" in token and len(token.split(":", 1)[1]) >= 8:
            found.append(token.split(":", 1)[1])
    if settings.webhook_secret is not None:
        found.append(settings.webhook_secret.get_secret_value())
    return found


def setup_logging(settings: Settings, *, tool: bool = False) -> RedactingFormatter:
    """Root handler with redaction; quiet APScheduler/httpx; PTB warnings we have decided on.
    Tool commands (backup, check, invite …) print their own lines: only warnings are logged
    unless LOG_LEVEL=DEBUG."""
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                   secrets_of(settings))
    level = settings.log_level
    if tool and level != "DEBUG":
        level = max(logging.WARNING, logging.getLevelName(level))
    logging.basicConfig(level=level)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    logging.captureWarnings(True)
    # An error nobody caught goes through the same (redacting) handler, not a raw traceback.
    sys.excepthook = _log_uncaught
    # Library chatter: job added/started/executed lines and every HTTP request are not news.
    for name in ("apscheduler", "httpx", "httpcore", "tornado.access"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    quiet_known_warnings()
    return formatter


def _log_uncaught(kind: type[BaseException], error: BaseException,
                  trace: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    logging.getLogger("bot").critical("unexpected error", exc_info=(kind, error, trace))


def quiet_known_warnings() -> None:
    """The resident conversation mixes message and button steps on purpose (per_message=False
    is what it needs: one form per chat); PTB warns about that mix at every start."""
    from telegram.warnings import PTBUserWarning

    warnings.filterwarnings("ignore", message=r"If 'per_message=False'",
                            category=PTBUserWarning)
