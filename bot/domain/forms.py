"""The resident's open form as a typed model: one per person, kept in our `forms` table.

`step` is the conversation state the form waits in (the resident conversation resumes from
it after a restart); the rest is what has been gathered so far.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain.tickets import Kind

# Conversation states (strings: they are also PTB's conversation states).
PLACE = "place"
KIND = "kind"
CATEGORY = "category"
DUP = "dup"
DESCRIBE = "describe"
EXTRAS = "extras"
CONFIRM = "confirm"
RATE_COMMENT = "rate_comment"
REOPEN_REASON = "reopen_reason"
URGENT_REASON = "urgent_reason"
STEPS = (PLACE, KIND, CATEGORY, DUP, DESCRIBE, EXTRAS, CONFIRM, RATE_COMMENT, REOPEN_REASON,
         URGENT_REASON)

Mode = Literal["new", "follow", "place", "rate", "reopen"]


class FormFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    file_id: str
    file_unique_id: str | None = None
    caption: str | None = None


class ResidentForm(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)   # also the filing's idem key
    person_id: int
    chat_id: int
    mode: Mode
    step: str = ""
    text: tuple[str, ...] = ()
    files: tuple[FormFile, ...] = ()
    kind: Kind | None = None
    category_id: int | None = None
    phone: str | None = None
    lat: float | None = None
    lon: float | None = None
    ticket_id: int | None = None
    code: str | None = None
    urgent: bool = False                # the resident marked it urgent, with a reason
    urgent_reason: str | None = None
    started_at: datetime
    at: datetime                # last activity (the idle timeout counts from here)

    @property
    def body(self) -> str:
        return "\n".join(self.text)

    @property
    def text_length(self) -> int:
        return sum(len(part) for part in self.text)

    def expired(self, now: datetime, timeout: timedelta) -> bool:
        return now - self.at > timeout


def from_legacy(data: object, person_id: int, chat_id: int, step: str | None,
                now: datetime) -> ResidentForm | None:
    """A form kept in PTB's user_data before the forms table (a dict with ~12 keys), or
    None when it cannot be read."""
    if not isinstance(data, dict):
        return None
    try:
        at = datetime.fromisoformat(str(data["at"])) if "at" in data else now
        files = [FormFile.model_validate(f) for f in data.get("files") or []]
        return ResidentForm(
            id=str(data.get("id") or uuid.uuid4().hex), person_id=person_id, chat_id=chat_id,
            mode=data.get("mode", "new"), step=step or "",
            text=tuple(str(t) for t in data.get("text") or []), files=tuple(files),
            kind=data.get("kind"), category_id=data.get("category_id"),
            phone=data.get("phone"), lat=data.get("lat"), lon=data.get("lon"),
            ticket_id=data.get("ticket_id"), code=data.get("code"), started_at=at, at=at)
    except (ValidationError, ValueError, TypeError, KeyError):
        return None
