"""Steps a resident takes, shared by the resident journey tests (Persian labels on purpose:
the tests read what a Persian-speaking resident reads)."""

from __future__ import annotations

import re
from typing import Any

from bot.domain.models import Ticket
from bot.domain.tickets import Kind
from bot.services.tickets import Draft, file_ticket
from storage import people, places
from storage import tickets as repo
from tests.harness import Harness, Msg, readable

TEXT = "سقف خانه چکه می‌کند و آب به اتاق بچه‌ها می‌ریزد"
CODE_RE = re.compile(r"کد پیگیری شما:\n([A-Z0-9]{6})")


def current(h: Harness, chat: int, message: Msg) -> Msg:
    """The message as it is now (after edits)."""
    return readable(next(m for m in h.emu.chat(chat) if m["message_id"] == message["message_id"]))


async def onboard(h: Harness, uid: int, code: str = "ISL01", name: str = "زهرا") -> Msg:
    """Deep link + consent; returns the "what would you like to send?" message."""
    h.user(uid, name)
    replies = await h.send(uid, f"/start n_{code}")
    replies = await h.press(uid, replies[-1], "موافقم")
    assert "چه چیزی می‌خواهید بفرستید" in replies[-1]["text"]
    return replies[-1]


async def to_description(h: Harness, uid: int, kind_msg: Msg, kind: str = "نیاز",
                         category: str = "مسکن") -> list[Msg]:
    await h.press(uid, kind_msg, kind)
    return await h.press(uid, current(h, uid, kind_msg), category)


async def finish(h: Harness, uid: int, ack: Msg) -> Msg:
    """Done → Continue → Send; returns the message with the tracking code."""
    await h.press(uid, ack, "تمام")
    summary = (await h.send(uid, "➡️ ادامه"))[-1]
    assert "لطفاً درخواست خود را بررسی کنید" in summary["text"]
    return (await h.press(uid, summary, "فرستادن"))[-1]


async def file_via_bot(h: Harness, uid: int, text: str = TEXT, category: str = "مسکن"
                       ) -> str:
    replies = await h.send(uid, "/new")
    replies = await to_description(h, uid, replies[-1], category=category)
    ack = (await h.send(uid, text))[-1]
    done = await finish(h, uid, ack)
    match = CODE_RE.search(done["text"])
    assert match, done["text"]
    return match.group(1)


async def ticket(h: Harness, code: str) -> Ticket:
    async with h.deps.db.read() as conn:
        found = await repo.by_code(conn, code)
    assert found is not None
    return found


async def seed_ticket(h: Harness, uid: int, key: str, category: str = "housing",
                      code: str = "ISL01", **extra: Any) -> Ticket:
    """A ticket filed through the service (for tracking tests that start after filing)."""
    async with h.deps.db.tx() as conn:
        await people.upsert(conn, uid, "زهرا", None, h.clock.now())
        n = await places.neighbourhood_by_code(conn, code)
        c = await places.category_by_code(conn, category)
        assert n and c
        await people.set_neighbourhood(conn, uid, n.id, h.clock.now())
        await people.set_consent(conn, uid, h.clock.now())
    made, _ = await file_ticket(h.deps, Draft(resident_id=uid, neighbourhood_id=n.id,
                                              kind=Kind.NEED, category_id=c.id,
                                              text=extra.get("text", TEXT)), idem_key=key)
    return made


async def add_role(h: Harness, uid: int, role: str, house: str | None = None,
                   code: str = "ISL01") -> None:
    h.user(uid, "کارمند")
    async with h.deps.db.tx() as conn:
        await people.upsert(conn, uid, "کارمند", None, h.clock.now())
        n = await places.neighbourhood_by_code(conn, code)
        hid = (await places.house_by_code(conn, house)).id if house else None  # type: ignore[union-attr]
        assert n
        await people.add_role(conn, uid, role, house_id=hid, scope_kind="neighbourhood",
                              scope_id=n.id, created_by=None, now=h.clock.now())
