"""Field visits as pure rules: the visit and its form as typed models, Iranian mobile numbers,
and when a request filed at a visit may be claimed.

A mayor or house staff member files requests at a meeting for residents who are not on
Telegram. Until the resident claims a request (its code and the last four digits of the
phone on it, or a one-time link from the filer), the ticket's resident is the filer.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from bot.domain.forms import FormFile
from bot.domain.text import to_ascii_digits
from bot.domain.tickets import Kind

# The filer's steps (stored in `visits.step`).
PLACE = "place"          # choose the neighbourhood
TITLE = "title"          # «نشست صمیمی مسجد جامع»
WHEN = "when"            # now, or a time
READY = "ready"          # the visit is open: next person, or end
NAME = "name"
PHONE = "phone"
KIND = "kind"
CATEGORY = "category"
DESCRIBE = "describe"    # text or voice, photos, a location; then «file»
PERSON_STEPS = frozenset({NAME, PHONE, KIND, CATEGORY, DESCRIBE})   # a draft is written
TYPED_STEPS = frozenset({TITLE, WHEN, NAME, PHONE, DESCRIBE})   # steps that read messages
BUTTON_STEPS = frozenset({PLACE, KIND, CATEGORY})               # steps answered by buttons

MAX_TRIES = 3
LOCK = timedelta(days=1)
HANDOVER_VALID = timedelta(days=7)
CLAIM_PROMPT_VALID = timedelta(minutes=30)
MAX_NAME = 80
MAX_TITLE = 120

CLAIM_PREFIX = "c_"
HANDOVER_PREFIX = "h_"


class VisitDraft(BaseModel):
    """The request being written for one person at the visit."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)   # the filing's idem key
    name: str = ""
    phone: str | None = None
    kind: Kind | None = None
    category_id: int | None = None
    text: tuple[str, ...] = ()
    files: tuple[FormFile, ...] = ()
    lat: float | None = None
    lon: float | None = None

    @property
    def body(self) -> str:
        return "\n".join(self.text)

    @property
    def described(self) -> bool:
        """Text or a voice message: enough to file."""
        return bool(self.text) or any(f.kind == "voice" for f in self.files)


class Visit(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    filer_id: int
    chat_id: int
    neighbourhood_id: int | None = None
    title: str = ""
    held_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    step: str
    draft: VisitDraft | None = None
    started_at: datetime
    ended_at: datetime | None = None
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class VisitRequest(BaseModel):
    """A ticket filed at a visit: for whom, and whether it has been claimed."""

    model_config = ConfigDict(frozen=True)

    ticket_id: int
    visit_id: int
    filer_id: int
    name: str
    phone: str | None = None
    claimed_by: int | None = None
    claimed_at: datetime | None = None
    failed_tries: int = 0
    locked_until: datetime | None = None
    handover_token: str | None = None
    handover_until: datetime | None = None
    created_at: datetime

    @property
    def claimed(self) -> bool:
        return self.claimed_by is not None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


_MOBILE = re.compile(r"^(?:\+?98|0098|0)?(9\d{9})$")


def normalize_mobile(text: str) -> str | None:
    """An Iranian mobile number as 09XXXXXXXXX (Persian or Arabic digits, spaces, dashes,
    +98 / 0098 / 98 / 0 prefixes accepted); None when it is not one."""
    raw = re.sub(r"[\s\-().\u200c]", "", to_ascii_digits(text.strip()))
    match = _MOBILE.match(raw)
    return "0" + match.group(1) if match else None


def last_four(phone: str) -> str:
    return phone[-4:]


def digits_match(phone: str, answer: str) -> bool:
    given = re.sub(r"\s", "", to_ascii_digits(answer))
    return len(given) == 4 and given == last_four(phone)


def masked(phone: str) -> str:
    """«0912***4567»: enough to recognise, not enough to call. It starts with a left-to-right
    mark, so that in a right-to-left line it still reads from 0912 on."""
    return "\u200e" + phone[:4] + "***" + phone[-4:]


def after_wrong_try(tries: int, now: datetime) -> tuple[int, datetime | None]:
    """(failed tries, locked until) after one more wrong answer: the third locks for a day
    and starts the count again."""
    tries += 1
    if tries >= MAX_TRIES:
        return 0, now + LOCK
    return tries, None


def parse_time(text: str, now: datetime, tz: str) -> datetime | None:
    """«10:30» (today) or «1405/09/09 10:30» / «1405/09/09» (Jalali; Gregorian years too),
    local time in `tz`, as an aware datetime; None when it cannot be read."""
    from zoneinfo import ZoneInfo

    import jdatetime  # type: ignore[import-untyped, unused-ignore]

    zone = ZoneInfo(tz)
    parts = to_ascii_digits(text).replace("-", "/").split()
    if not 1 <= len(parts) <= 2:
        return None
    local = now.astimezone(zone)
    day, clock = (None, parts[0]) if len(parts) == 1 and ":" in parts[0] else \
        (parts[0], parts[1] if len(parts) == 2 else "00:00")
    try:
        hour, minute = (int(p) for p in clock.split(":"))
        if day is None:
            return local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        y, m, d = (int(p) for p in day.split("/"))
        if y < 1700:
            g = jdatetime.date(y, m, d).togregorian()
            y, m, d = g.year, g.month, g.day
        return datetime(y, m, d, hour, minute, tzinfo=zone)
    except ValueError:
        return None
