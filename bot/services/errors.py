"""The one way a use case says no: `Refused` with an English message id and its arguments.

Services never render text; `bot.ui.errors.refused_text` translates the message for the
person at hand (a `status` argument is shown as the status label of their language).
"""

from __future__ import annotations


class Refused(Exception):
    """Understood, but not possible now; `message` is an English msgid (marked with N_)."""

    def __init__(self, message: str, **values: str) -> None:
        super().__init__(message)
        self.message = message
        self.values = values


class NotFound(Refused):
    """No such ticket for this person: missing and out of scope look the same."""

    def __init__(self, code: str = "") -> None:
        super().__init__("", code=code)
        self.code = code
