"""What rendering a notice needs from the database when it is sent (not when it was queued):
the recipient's language at that moment and the names of the reference data it mentions.

Use cases queue notices with `deps.outbox.notify(conn, Notice(...))` in their transaction;
`bot.ui.notices` calls `send_context` right before the outbox worker sends one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.i18n import choose_locale
from storage import people, places
from storage.conn import Conn
from storage.db import Database


class Ref(StrEnum):
    """Reference tables a notice may name by id."""

    HOUSE = "house"
    NEIGHBOURHOOD = "neighbourhood"
    CATEGORY = "category"


Name = tuple[str, str]            # (Persian, English)


@dataclass
class ReferenceNames:
    """Names by (table, id), read once per process: reference data changes only when the data
    files are reloaded at start or places are imported, never while a notice waits."""

    cache: dict[tuple[Ref, int], Name | None] = field(default_factory=dict)

    async def load(self, conn: Conn, wanted: Iterable[tuple[Ref, int]]
                   ) -> dict[tuple[Ref, int], Name | None]:
        found: dict[tuple[Ref, int], Name | None] = {}
        for ref in wanted:
            if ref not in self.cache:
                self.cache[ref] = await _read(conn, *ref)
            found[ref] = self.cache[ref]
        return found


async def _read(conn: Conn, table: Ref, item_id: int) -> Name | None:
    if table is Ref.HOUSE:
        row = await places.house(conn, item_id)
        return (row.name_fa, row.name_en) if row else None
    if table is Ref.NEIGHBOURHOOD:
        place = await places.neighbourhood(conn, item_id)
        return (place.name_fa, place.name_en) if place else None
    category = await places.category(conn, item_id)
    return (category.name_fa, category.name_en) if category else None


@dataclass(frozen=True)
class SendContext:
    locale: str
    names: dict[tuple[Ref, int], Name | None]


async def send_context(db: Database, names: ReferenceNames, chat_id: int,
                       wanted: Iterable[tuple[Ref, int]], default_locale: str) -> SendContext:
    """The recipient's language now (their own choice; groups and unknown chats get the
    default) and the names `wanted`, in one read."""
    async with db.read() as conn:
        person = await people.get(conn, chat_id) if chat_id > 0 else None
        found = await names.load(conn, wanted)
    locale = choose_locale(person.locale if person else None, None, default_locale)
    return SendContext(locale, found)
