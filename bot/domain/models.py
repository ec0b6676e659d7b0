"""Pydantic models the repositories return. Timestamps are aware UTC datetimes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.domain.tickets import CloseReason, Kind, Status


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Province(Model):
    id: int
    code: str
    name_fa: str
    name_en: str


class City(Model):
    id: int
    province_id: int
    code: str
    name_fa: str
    name_en: str


class Neighbourhood(Model):
    id: int
    city_id: int
    code: str
    name_fa: str
    name_en: str
    lat: float | None = None
    lon: float | None = None
    sample: bool = False
    city_fa: str = ""
    city_en: str = ""
    province_id: int = 0


class House(Model):
    id: int
    code: str
    name_fa: str
    name_en: str
    description_fa: str = ""
    description_en: str = ""


class Category(Model):
    id: int
    code: str
    name_fa: str
    name_en: str
    default_house_id: int
    sort: int = 0
    window_hours: int | None = None      # the category's own response window, if any
    window_clock: str | None = None      # calendar | office


class Person(Model):
    id: int
    first_name: str = ""
    username: str | None = None
    locale: str | None = None
    neighbourhood_id: int | None = None
    phone: str | None = None
    consent_at: datetime | None = None
    unreachable_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class Role(Model):
    id: int
    person_id: int
    role: str
    house_id: int | None = None
    scope_kind: str
    scope_id: int | None = None
    created_at: datetime
    created_by: int | None = None
    revoked_at: datetime | None = None


class Ticket(Model):
    id: int
    code: str
    resident_id: int
    neighbourhood_id: int
    kind: Kind
    category_id: int
    house_id: int
    text: str
    phone: str | None = None
    lat: float | None = None
    lon: float | None = None
    status: Status
    close_reason: CloseReason | None = None
    duplicate_of: int | None = None
    assignee_id: int | None = None
    created_at: datetime
    updated_at: datetime
    window_started_at: datetime
    window_no: int = 1
    due_at: datetime
    paused_at: datetime | None = None
    first_response_at: datetime | None = None
    sla_next_at: datetime | None = None
    closed_at: datetime | None = None
    rating: int | None = None
    rating_comment: str | None = None
    reopen_count: int = 0
    sla_clock: str = "calendar"          # the ticket's own window: calendar | office time
    window_hours: int | None = None      # None: RESPONSE_WINDOW_HOURS (tickets before 0004)
    urgent: bool = False
    urgent_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status is not Status.CLOSED


class TicketEvent(Model):
    id: int
    ticket_id: int
    at: datetime
    actor_id: int | None = None
    actor_role: str
    action: str
    public: bool = True
    body: str | None = None
    details: dict[str, Any] = {}


class Attachment(Model):
    id: int
    ticket_id: int
    event_id: int | None = None
    kind: str
    file_id: str
    file_unique_id: str | None = None
    caption: str | None = None
    created_at: datetime


class OutboxMessage(Model):
    id: int
    idem_key: str
    chat_id: int
    ticket_id: int | None = None
    kind: str
    payload: dict[str, Any]
    status: str
    attempts: int = 0
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None = None
    sent_message_id: int | None = None
    last_error: str | None = None
