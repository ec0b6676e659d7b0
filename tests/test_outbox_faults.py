"""Issue 14, items 1 and 4, through the emulator's fault injection with real time: an outage
longer than the old give-up time, 429 storms followed by 5xx, slow answers. Every message is
delivered, order is kept per chat, at most the single in-flight message is duplicated, and a
long outage raises one alert."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.metrics import counting_request
from bot.outbox import Outbox, RateLimiter
from bot.reliable_bot import SEND_TIMEOUTS, ReliableBot
from bot.sandbox.emulator import Emulator, EmuUser
from storage import people
from storage.backends import database_for
from storage.db import Database
from storage.outbox import pending_count

TOKEN = "123456:FAULTS"
ADMIN_CHAT = -100999


class FastLimiter(RateLimiter):
    """Telegram's 429 waits, a hundred times shorter (a storm of 24 takes 0.24 s)."""

    def block(self, chat_id: int, seconds: float) -> None:
        super().block(chat_id, seconds / 100)


@dataclass
class Rig:
    emu: Emulator
    db: Database
    bot: ReliableBot

    def outbox(self, **kwargs: object) -> Outbox:
        kwargs.setdefault("backoff_base", 0.01)
        kwargs.setdefault("backoff_max", 0.05)
        kwargs.setdefault("limiter", FastLimiter(private_interval=0.0))
        return Outbox(self.db, SystemClock(), admin_chat_id=ADMIN_CHAT,  # type: ignore[arg-type]
                      **kwargs)

    async def enqueue(self, outbox: Outbox, items: list[tuple[int, str]]) -> None:
        async with self.db.tx() as conn:
            for chat_id, text in items:
                await outbox.enqueue(conn, chat_id=chat_id, key=f"k:{chat_id}:{text}",
                                     kind="status", text=text)

    def texts(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.emu.bot_messages(chat_id)]

    async def drained(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            async with self.db.read() as conn:
                if await pending_count(conn) == 0:
                    return
            assert time.monotonic() < deadline, "outbox did not drain"
            await asyncio.sleep(0.02)


@pytest.fixture
async def rig(tmp_path: Path, database_url: str) -> AsyncIterator[Rig]:
    emu = Emulator(token=TOKEN)
    await emu.start()
    for uid in range(1, 7):
        emu.add_user(EmuUser(id=uid, first_name=f"u{uid}"))
    emu.add_group(chat_id=ADMIN_CHAT, title="admins")
    db = database_for(database_url)
    await db.open()
    async with db.tx() as conn:
        for uid in range(1, 7):
            await people.upsert(conn, uid, f"u{uid}", None, SystemClock().now())
    bot = ReliableBot(TOKEN, base_url=emu.base_url,
                      request=counting_request(16, **SEND_TIMEOUTS))
    await bot.initialize()
    try:
        yield Rig(emu, db, bot)
    finally:
        await bot.shutdown()
        await db.close()
        await emu.stop()


def in_order(texts: list[str], expected: list[str]) -> bool:
    """Each expected text arrived, in order; only a message may repeat right after itself
    (the single in-flight one)."""
    collapsed = [t for i, t in enumerate(texts) if i == 0 or texts[i - 1] != t]
    return collapsed == expected


async def test_outage_longer_than_old_give_up_loses_nothing_and_alerts_once(rig: Rig) -> None:
    outbox = rig.outbox(outage_alert_after=0.1)
    rig.emu.inject_fault("sendMessage", status=500, count=12, chat_id=1)   # old limit: 8
    rig.emu.inject_fault("sendMessage", status=502, count=10, chat_id=2)
    await rig.enqueue(outbox, [(1, "a1"), (1, "a2"), (1, "a3"), (2, "b1"), (2, "b2"),
                               (3, "c1")])
    outbox.start(rig.bot)
    await rig.drained()
    await outbox.stop()
    assert in_order(rig.texts(1), ["a1", "a2", "a3"])
    assert in_order(rig.texts(2), ["b1", "b2"])
    assert rig.texts(3) == ["c1"]
    alerts = rig.texts(ADMIN_CHAT)
    assert len(alerts) == 1 and "تلگرام" in alerts[0]
    assert outbox.alarm.alerts == 1 and not outbox.alarm.down          # recovered


async def test_429_storm_then_5xx_does_not_use_up_the_message(rig: Rig) -> None:
    outbox = rig.outbox()
    rig.emu.inject_fault("sendMessage", status=429, retry_after=1, count=24, chat_id=4)
    await rig.enqueue(outbox, [(4, "x1"), (4, "x2"), (5, "y1")])
    outbox.start(rig.bot)
    await asyncio.sleep(0.05)
    rig.emu.inject_fault("sendMessage", status=500, count=3, chat_id=4)
    await rig.drained()
    await outbox.stop()
    assert in_order(rig.texts(4), ["x1", "x2"]) and rig.texts(5) == ["y1"]


async def test_rejected_message_fails_with_one_alert(rig: Rig) -> None:
    outbox = rig.outbox()
    rig.emu.inject_fault("sendMessage", status=400, count=3, chat_id=6,
                         description="Bad Request: chat not found")
    await rig.enqueue(outbox, [(6, "r1"), (6, "r2"), (6, "r3"), (5, "ok")])
    outbox.start(rig.bot)
    await rig.drained()
    await outbox.stop()
    assert rig.texts(6) == [] and rig.texts(5) == ["ok"]
    assert len(rig.texts(ADMIN_CHAT)) == 1                 # one alert, not three


async def test_slow_answers_are_not_sent_twice(rig: Rig) -> None:
    """6 s answers (the issue's network delay): delivered at once, answered late. The old
    5 s read timeout retried them while in flight; now each arrives exactly once."""
    outbox = rig.outbox()
    rig.emu.set_delay("sendMessage", 6.0, after=True)
    await rig.enqueue(outbox, [(1, "s1"), (2, "s2"), (3, "s3")])
    outbox.start(rig.bot)
    await rig.drained(timeout=40)
    await outbox.stop()
    assert (rig.texts(1), rig.texts(2), rig.texts(3)) == (["s1"], ["s2"], ["s3"])
