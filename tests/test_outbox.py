"""The outbox against the emulator with real time: limits, faults, blocked users, crashes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from telegram import Bot, ReplyKeyboardMarkup, ReplyKeyboardRemove
from telegram.request import HTTPXRequest

from bot.clock import SystemClock
from bot.domain.notices import Notice, NoticeKind, when
from bot.domain.tickets import Kind
from bot.outbox import Outbox
from bot.sandbox.emulator import Emulator, EmuUser
from bot.services.reference import load_reference
from bot.ui.notices import RENDERERS
from storage import outbox as outbox_repo
from storage import people, places, tickets
from storage.backends import database_for
from storage.base import fetch_all
from storage.db import Database
from storage.outbox import pending_count

TOKEN = "123456:OUTBOX-TEST"
GROUP = -100777


@dataclass
class Rig:
    emu: Emulator
    db: Database
    bot: Bot
    path: Path
    url: str

    def outbox(self, **kwargs: object) -> Outbox:
        kwargs.setdefault("backoff_base", 0.05)
        return Outbox(self.db, SystemClock(), **kwargs)  # type: ignore[arg-type]

    async def enqueue(self, outbox: Outbox, items: list[tuple[int, str]]) -> None:
        async with self.db.tx() as conn:
            for chat_id, text in items:
                await outbox.enqueue(conn, chat_id=chat_id, key=f"k:{chat_id}:{text}",
                                     kind="test", text=text)

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.emu.bot_messages(chat_id)]

    async def rows_of(self, key: str) -> list[dict[str, object]]:
        """A row's payload fields, by idempotency key."""
        async with self.db.read() as conn:
            rows = await fetch_all(conn, "SELECT payload FROM outbox WHERE idem_key = ?", (key,))
        return [json.loads(r["payload"]) for r in rows]

    async def rows(self) -> list[dict[str, object]]:
        async with self.db.read() as conn:
            return [dict(r) for r in await fetch_all(conn, "SELECT * FROM outbox ORDER BY id")]


async def drained(rig: Rig, outbox: Outbox, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with rig.db.read() as conn:
            if await pending_count(conn) == 0:
                return
        assert time.monotonic() < deadline, "outbox did not drain"
        await asyncio.sleep(0.02)


@pytest.fixture
async def rig(tmp_path: Path, database_url: str) -> AsyncIterator[Rig]:
    emu = Emulator(token=TOKEN, enforce_limits=True)    # real clock: real Telegram limits
    await emu.start()
    for uid in range(1, 31):
        emu.add_user(EmuUser(id=uid, first_name=f"u{uid}"))
    emu.add_group(chat_id=GROUP, title="team")
    db = database_for(database_url)
    await db.open()
    async with db.tx() as conn:
        for uid in range(1, 31):
            await people.upsert(conn, uid, f"u{uid}", None, SystemClock().now())
    bot = Bot(TOKEN, base_url=emu.base_url,
              request=HTTPXRequest(read_timeout=0.4, connection_pool_size=16))
    await bot.initialize()
    rig = Rig(emu, db, bot, tmp_path, database_url)
    try:
        yield rig
    finally:
        await bot.shutdown()
        await rig.db.close()
        await emu.stop()


async def test_limits_are_respected_and_order_is_kept(rig: Rig) -> None:
    outbox = rig.outbox()
    items = [(chat, f"{chat}-{i}") for i in range(3) for chat in (1, 2, 3)]
    items += [(GROUP, f"g-{i}") for i in range(5)]
    await rig.enqueue(outbox, items)
    started = time.monotonic()
    outbox.start(rig.bot)
    await drained(rig, outbox)
    elapsed = time.monotonic() - started
    await outbox.stop()
    for chat in (1, 2, 3):
        assert rig.texts(chat) == [f"{chat}-{i}" for i in range(3)]
    assert rig.texts(GROUP) == [f"g-{i}" for i in range(5)]
    assert elapsed >= 2.0          # three messages to one private chat need two seconds
    # The emulator enforces the limits: not a single 429 was provoked.
    assert all(r["status"] == "sent" and r["last_error"] is None for r in await rig.rows())


async def test_retry_after_is_honoured_for_that_chat(rig: Rig) -> None:
    outbox = rig.outbox()
    rig.emu.inject_fault("sendMessage", status=429, retry_after=1, chat_id=1)
    await rig.enqueue(outbox, [(1, "a"), (1, "b"), (2, "c")])
    started = time.monotonic()
    outbox.start(rig.bot)
    await drained(rig, outbox)
    await outbox.stop()
    assert rig.texts(1) == ["a", "b"] and rig.texts(2) == ["c"]
    assert time.monotonic() - started >= 1.0
    sends = [p for m, p in rig.emu.requests if m == "sendMessage" and p["chat_id"] == 1]
    assert len(sends) == 3         # one refused, then a and b once each


async def test_server_errors_and_timeouts_are_retried(rig: Rig) -> None:
    outbox = rig.outbox()
    rig.emu.inject_fault("sendMessage", status=500, count=2, chat_id=1)
    rig.emu.inject_fault("sendMessage", status=502, count=1, chat_id=2)
    await rig.enqueue(outbox, [(1, "x1"), (1, "x2"), (2, "y1")])
    outbox.start(rig.bot)
    await drained(rig, outbox)
    assert rig.texts(1) == ["x1", "x2"] and rig.texts(2) == ["y1"]
    rows = await rig.rows()
    assert [r["attempts"] for r in rows] == [3, 1, 2]
    # A timeout: Telegram may have the message (the single in-flight one); it is retried
    # until confirmed, and later messages of that chat wait for it.
    rig.emu.set_delay("sendMessage", 0.6)
    await rig.enqueue(outbox, [(3, "t1"), (3, "t2")])
    await asyncio.sleep(0.5)
    rig.emu.clear_faults()
    await drained(rig, outbox)
    await outbox.stop()
    texts = rig.texts(3)
    assert texts[-1] == "t2" and texts.count("t2") == 1 and 1 <= texts.count("t1") <= 2
    assert texts.index("t1") < texts.index("t2")


async def test_blocked_user_is_marked_unreachable_and_not_retried(rig: Rig) -> None:
    outbox = rig.outbox()
    rig.emu.block(4)
    await rig.enqueue(outbox, [(4, "one"), (4, "two"), (5, "fine")])
    outbox.start(rig.bot)
    await drained(rig, outbox)
    await outbox.stop()
    assert rig.texts(4) == [] and rig.texts(5) == ["fine"]
    rows = await rig.rows()
    assert [r["status"] for r in rows] == ["failed", "failed", "sent"]
    assert [r["attempts"] for r in rows] == [1, 1, 1]
    async with rig.db.tx() as conn:
        assert await people.is_unreachable(conn, 4)
        assert not await people.is_unreachable(conn, 5)
        await people.upsert(conn, 4, "u4", None, SystemClock().now())   # writes again
        assert not await people.is_unreachable(conn, 4)


async def test_long_text_is_split_in_order(rig: Rig) -> None:
    outbox = rig.outbox()
    text = "\n".join(f"line {i} " + "x" * 80 for i in range(100))
    await rig.enqueue(outbox, [(6, text)])
    outbox.start(rig.bot)
    await drained(rig, outbox)
    await outbox.stop()
    parts = rig.texts(6)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text


async def test_killed_mid_batch_loses_nothing_and_repeats_only_in_flight(rig: Rig) -> None:
    chats = list(range(10, 30))
    items = [(chat, f"{chat}:{i}") for i in range(3) for chat in chats]
    first = rig.outbox(lanes=4)
    await rig.enqueue(first, items)
    rig.emu.set_delay("sendMessage", 0.3)
    first.start(rig.bot)
    await asyncio.sleep(1.0)
    await first.stop()                         # the process dies, sends in the air
    in_flight = {str(r["payload"]) for r in await rig.rows() if r["status"] == "sending"}
    assert 1 <= len(in_flight) <= 4            # at most one per lane
    sent_before = sum(r["status"] == "sent" for r in await rig.rows())
    assert 0 < sent_before < len(items)
    await asyncio.sleep(0.4)                   # let the emulator finish what it received
    rig.emu.clear_faults()
    # A new process gets a new connection (the killed one may have died inside BEGIN).
    await rig.db.close()
    rig.db = database_for(rig.url)
    await rig.db.open()
    second = rig.outbox(lanes=4)
    second.start(rig.bot)
    await drained(rig, second)
    await second.stop()
    for chat in chats:
        texts = rig.texts(chat)
        expected = [f"{chat}:{i}" for i in range(3)]
        assert list(dict.fromkeys(texts)) == expected     # nothing lost, order kept
        for text in expected:
            if texts.count(text) > 1:                       # only the in-flight one repeats
                assert texts.count(text) == 2
                assert any(text in payload for payload in in_flight)


# ------------------------------------------------------------------ typed notices, old rows


async def _house_ids(rig: Rig) -> tuple[int, int]:
    await load_reference(rig.db)
    async with rig.db.read() as conn:
        welfare = await places.house_by_code(conn, "welfare")
        relief = await places.house_by_code(conn, "relief")
    assert welfare and relief
    return welfare.id, relief.id


async def test_notice_is_rendered_in_the_language_the_reader_has_when_it_is_sent(rig: Rig
                                                                                   ) -> None:
    welfare, relief = await _house_ids(rig)
    outbox = rig.outbox()
    async with rig.db.tx() as conn:
        await people.set_locale(conn, 1, "fa", SystemClock().now())
        await people.set_locale(conn, 2, "fa", SystemClock().now())
        for chat in (1, 2, GROUP):
            await outbox.notify(conn, Notice(
                NoticeKind.MOVED, chat, f"moved:{chat}", "status", None,
                {"code": "ABC123", "from_house_id": welfare, "to_house_id": relief,
                 "rate": False}))
    async with rig.db.tx() as conn:            # between queueing and sending: to English
        await people.set_locale(conn, 1, "en", SystemClock().now())
    assert await outbox.drain_once(rig.bot) == 3
    assert rig.texts(1) == ["📨 Your request ABC123 was passed from Welfare House to Relief "
                            "House, which handles this kind of request. The deadline stays "
                            "the same."]
    for chat in (2, GROUP):                     # still Persian; a group gets the default
        [text] = rig.texts(chat)
        assert "از خانه بهزیستی" in text and "خانه امداد" in text and "ABC123" in text


async def test_notice_keyboards_are_built_when_sent(rig: Rig) -> None:
    welfare, _ = await _house_ids(rig)
    outbox = rig.outbox()
    now = SystemClock().now()
    async with rig.db.tx() as conn:
        await people.set_locale(conn, 3, "en", now)
        await people.set_locale(conn, 4, "en", now)
        neighbourhood = (await places.neighbourhood_search_keys(conn))[0][0]
        category = await places.category_by_code(conn, "housing")
        assert category is not None
        ticket = await tickets.insert(
            conn, code="XYZ789", resident_id=4, neighbourhood_id=neighbourhood,
            kind=Kind.NEED, category_id=category.id, house_id=welfare, text="t", phone=None,
            lat=None, lon=None, now=now, due_at=now + timedelta(hours=24), sla_next_at=None)
        await outbox.notify(conn, Notice(
            NoticeKind.SLA_REMINDER, 3, "r:3", "sla_reminder", ticket.id,
            {"code": "XYZ789", "due": when(now + timedelta(hours=24)), "at": when(now),
             "neighbourhood_id": neighbourhood, "house_id": welfare}))
        await outbox.notify(conn, Notice(
            NoticeKind.CLOSED, 4, "c:4", "close", ticket.id,
            {"code": "XYZ789", "reason": "resolved", "original": None, "message": "Done.",
             "rate": True}))
    assert await outbox.drain_once(rig.bot) == 2
    [reminder] = rig.emu.bot_messages(3)
    assert reminder["text"].startswith("⏰ Request XYZ789 must be answered within 1 day.")
    assert "House: Welfare House" in reminder["text"]
    assert [b["callback_data"] for row in reminder["reply_markup"]["inline_keyboard"]
            for b in row] == [f"ticket:show:{ticket.id}", f"ticket:take:{ticket.id}"]
    [closed] = rig.emu.bot_messages(4)
    assert closed["text"].startswith("✅ Your request XYZ789 was closed: resolved.")
    assert [b["callback_data"] for row in closed["reply_markup"]["inline_keyboard"]
            for b in row] == [*(f"rate:s:{ticket.id}:{n}" for n in range(1, 6)),
                              f"rate:bad:{ticket.id}"]


async def test_row_queued_before_typed_notices_is_sent_as_it_is(rig: Rig) -> None:
    outbox = rig.outbox()
    markup = {"inline_keyboard": [[{"text": "📄 Show", "callback_data": "ticket:show:5"}]]}
    async with rig.db.tx() as conn:              # the payload shape of the earlier version
        await outbox_repo.enqueue(conn, idem_key="old:1", chat_id=5, kind="announce",
                                  payload={"text": "🆕 New request OLD001",
                                           "reply_markup": markup},
                                  ticket_id=None, now=SystemClock().now())
    assert await outbox.drain_once(rig.bot) == 1
    [sent] = rig.emu.bot_messages(5)
    assert sent["text"] == "🆕 New request OLD001"
    assert sent["reply_markup"] == markup


async def test_reply_keyboard_is_carried_through_the_outbox(rig: Rig) -> None:
    outbox = rig.outbox()
    keyboard = ReplyKeyboardMarkup([["📝 New request", "📋 My requests"]], resize_keyboard=True)
    async with rig.db.tx() as conn:
        await outbox.enqueue(conn, chat_id=8, key="kb:8", kind="menu", text="Main menu:",
                             reply_markup=keyboard)
        await outbox.enqueue(conn, chat_id=9, key="kb:9", kind="menu", text="bye",
                             reply_markup=ReplyKeyboardRemove())
    [row] = await rig.rows_of("kb:8")
    assert row["markup"] == "reply"
    assert await outbox.drain_once(rig.bot) == 2
    assert rig.texts(8) == ["Main menu:"]
    shown = rig.emu.current_keyboard(8)
    assert shown is not None
    assert [b["text"] if isinstance(b, dict) else b for r in shown["keyboard"] for b in r] == [
        "📝 New request", "📋 My requests"]
    assert rig.texts(9) == ["bye"] and rig.emu.current_keyboard(9) is None


async def test_a_notice_that_cannot_be_rendered_fails_instead_of_looping(rig: Rig) -> None:
    outbox = rig.outbox()
    async with rig.db.tx() as conn:
        await outbox_repo.enqueue(conn, idem_key="bad:1", chat_id=10, kind="x",
                                  payload={"notice": "no_such_kind", "args": {}},
                                  ticket_id=None, now=SystemClock().now())
        await outbox.enqueue(conn, chat_id=10, key="ok:1", kind="x", text="after it")
    assert await outbox.drain_once(rig.bot) == 2
    assert rig.texts(10) == ["after it"]
    statuses = {r["idem_key"]: r["status"] for r in await rig.rows()}
    assert statuses == {"bad:1": "failed", "ok:1": "sent"}


def test_every_notice_kind_has_a_renderer() -> None:
    assert set(RENDERERS) == set(NoticeKind)
