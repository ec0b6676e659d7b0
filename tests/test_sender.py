"""The one sending path (bot/sender.py) and concurrent updates in order (bot/update_order.py):
priorities between chats, order within a chat, budgets, retries of direct replies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Chat, Message, Update, User
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.sender import Budgets, Priority, PrioritySender, outbox_priority, retry_reason
from bot.update_order import PerChatProcessor

TOKEN = "123456:SENDER-TEST"


class Recorder:
    """Stands in for PTB's HTTP call: records the order calls reach 'Telegram'."""

    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[tuple[int, str]] = []
        self.delay = delay

    def call(self, chat: int, text: str) -> Any:
        async def callback() -> bool:
            self.sent.append((chat, text))
            await asyncio.sleep(self.delay)
            return True
        return callback


async def send(sender: PrioritySender, recorder: Recorder, chat: int, text: str,
               priority: Priority | None = None) -> Any:
    return await sender.process_request(
        recorder.call(chat, text), (), {}, "sendMessage", {"chat_id": chat, "text": text},
        None if priority is None else int(priority))


async def test_a_reply_overtakes_bulk_notifications_to_other_chats() -> None:
    sender = PrioritySender(Budgets(per_second=50, private_interval=0.0))
    recorder = Recorder()
    bulk = [asyncio.create_task(send(sender, recorder, 100 + i, f"digest {i}", Priority.BULK))
            for i in range(10)]
    staff = [asyncio.create_task(send(sender, recorder, 200 + i, f"staff {i}", Priority.STAFF))
             for i in range(10)]
    await asyncio.sleep(0.05)       # a few staff notifications are out by now
    out_before = len(recorder.sent)
    reply = asyncio.create_task(send(sender, recorder, 7, "your reply"))
    await asyncio.gather(reply, *bulk, *staff)
    order = [text for _, text in recorder.sent]
    assert 0 < out_before < 6
    assert order.index("your reply") <= out_before + 1, order      # next, or the one after
    assert order.index("your reply") < order.index("staff 9")
    # staff before digests, each class in the order it was queued
    assert order[-10:] == [f"digest {i}" for i in range(10)]
    await sender.shutdown()


async def test_within_one_chat_priority_never_reorders() -> None:
    sender = PrioritySender(Budgets(per_second=50, private_interval=0.0))
    recorder = Recorder(delay=0.01)
    tasks = [asyncio.create_task(send(sender, recorder, 5, "digest", Priority.BULK)),
             asyncio.create_task(send(sender, recorder, 5, "notice", Priority.RESIDENT))]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(send(sender, recorder, 5, "reply")))
    tasks += [asyncio.create_task(send(sender, recorder, 900 + i, "other", Priority.STAFF))
              for i in range(5)]
    await asyncio.gather(*tasks)
    mine = [text for chat, text in recorder.sent if chat == 5]
    assert mine == ["digest", "notice", "reply"]
    # the chat carries its reply's priority: it is served before the staff chats
    assert recorder.sent.index((5, "reply")) < len(recorder.sent) - 1
    await sender.shutdown()


async def test_budgets_one_per_second_per_private_chat_and_overall_rate() -> None:
    sender = PrioritySender(Budgets(per_second=40, private_interval=0.3))
    recorder = Recorder()
    times: dict[str, float] = {}

    async def timed(chat: int, text: str) -> None:
        await send(sender, recorder, chat, text)
        times[text] = time.monotonic()

    started = time.monotonic()
    await asyncio.gather(timed(1, "a"), timed(1, "b"),
                         *(timed(10 + i, f"x{i}") for i in range(20)))
    assert times["b"] - times["a"] >= 0.29       # the private chat's interval
    assert time.monotonic() - started >= 21 / 40 - 0.05   # evenly spaced overall
    await sender.shutdown()


async def test_calls_that_send_nothing_pass_at_once() -> None:
    sender = PrioritySender(Budgets(per_second=1, private_interval=10))
    recorder = Recorder()
    await send(sender, recorder, 1, "first")
    started = time.monotonic()
    await sender.process_request(recorder.call(1, "answer"), (), {}, "answerCallbackQuery",
                                 {"callback_query_id": "x"}, None)
    assert time.monotonic() - started < 0.1
    await sender.shutdown()


def test_outbox_priorities() -> None:
    assert outbox_priority({"notice": "answer"}, "answer") is Priority.RESIDENT
    assert outbox_priority({"notice": "new_ticket"}, "new_ticket") is Priority.STAFF
    assert outbox_priority({"notice": "digest"}, "digest") is Priority.BULK
    assert outbox_priority({"text": "x"}, "staff_report") is Priority.BULK


def test_retry_classes() -> None:
    import httpx

    assert retry_reason(NetworkError("Internal Server Error")) is not None   # 5xx
    assert retry_reason(TimedOut()) is None                     # read timeout: maybe sent
    try:
        raise TimedOut() from httpx.ConnectTimeout("no")
    except TimedOut as exc:
        assert retry_reason(exc) == "not connected"


# ---------------------------------------------------------------- through HTTP, end to end

class FakeTelegram:
    """Answers sendMessage per a script: 'ok', '500', 'drop' (close the connection),
    'slow' (answer after a long pause)."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.received: list[str] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        data = await request.post()
        self.received.append(str(data.get("text")))
        step = self.script.pop(0) if self.script else "ok"
        if step == "500":
            return web.json_response({"ok": False, "error_code": 500,
                                      "description": "Internal Server Error"}, status=500)
        if step == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if step == "slow":
            await asyncio.sleep(1.0)
        message = {"message_id": len(self.received), "date": 0,
                   "chat": {"id": int(str(data["chat_id"])), "type": "private"},
                   "text": str(data.get("text"))}
        return web.json_response({"ok": True, "result": message})


@pytest.fixture
async def telegram_server() -> AsyncIterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram([])
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield fake, f"http://127.0.0.1:{port}/bot"
    await runner.cleanup()


async def make_bot(base_url: str, read_timeout: float = 5.0) -> ExtBot[int]:
    bot: ExtBot[int] = ExtBot(TOKEN, base_url=base_url,
                              request=HTTPXRequest(read_timeout=read_timeout),
                              rate_limiter=PrioritySender(Budgets.unlimited(),
                                                          backoff_base=0.01))
    return bot


async def test_direct_reply_retried_on_5xx_and_connection_errors(
        telegram_server: tuple[FakeTelegram, str]) -> None:
    fake, url = telegram_server
    fake.script = ["500", "500", "drop", "ok"]
    bot = await make_bot(url)
    message = await bot.send_message(42, "hello")
    assert message.text == "hello"
    assert fake.received == ["hello"] * 4        # tried four times, delivered once
    await bot.shutdown()


async def test_notification_is_not_retried_by_the_sender(
        telegram_server: tuple[FakeTelegram, str]) -> None:
    fake, url = telegram_server
    fake.script = ["500"]
    bot = await make_bot(url)
    with pytest.raises(NetworkError):            # the outbox owns its retries
        await bot.send_message(42, "notice", rate_limit_args=int(Priority.STAFF))
    assert fake.received == ["notice"]
    await bot.shutdown()


async def test_slow_answer_is_not_sent_twice(
        telegram_server: tuple[FakeTelegram, str]) -> None:
    fake, url = telegram_server
    fake.script = ["slow"]
    bot = await make_bot(url, read_timeout=0.2)
    with pytest.raises(TimedOut):
        await bot.send_message(42, "slow one")
    await asyncio.sleep(1.0)
    assert fake.received == ["slow one"]
    await bot.shutdown()


def test_the_bot_waits_long_for_an_answer() -> None:
    from bot.app import build_application
    from bot.config import Settings

    app = build_application(Settings(_env_file=None))  # type: ignore[call-arg]
    assert isinstance(app.bot.rate_limiter, PrioritySender)
    assert app.bot.request.read_timeout is not None and app.bot.request.read_timeout >= 30


# ---------------------------------------------------------------- updates in order

def _update(update_id: int, chat: int, user: int) -> Update:
    sender = User(user, "u", False)
    return Update(update_id, message=Message(update_id, None, Chat(chat, "private"),  # type: ignore[arg-type]
                                             from_user=sender, text=str(update_id)))


async def test_per_chat_order_under_concurrency() -> None:
    processor = PerChatProcessor(4)
    done: list[tuple[int, int]] = []

    async def handle(update: Update, pause: float) -> None:
        await asyncio.sleep(pause)
        assert update.effective_chat is not None
        done.append((update.effective_chat.id, update.update_id))

    tasks = []
    for n in range(40):
        chat = n % 3 + 1 if n < 30 else 100 + n      # three busy chats, ten quiet ones
        update = _update(n, chat, chat)
        pause = 0.02 if n % 2 == 0 else 0.0          # later updates would finish first
        tasks.append(asyncio.create_task(processor.process_update(update, handle(update,
                                                                                  pause))))
    await asyncio.gather(*tasks)
    for chat in (1, 2, 3):
        ids = [u for c, u in done if c == chat]
        assert ids == sorted(ids)
    # a busy chat holds one slot at most: the quiet chats are not stuck behind it
    quiet = [i for i, (c, _) in enumerate(done) if c >= 100]
    assert min(quiet) < 25
    assert not processor._locks                     # nothing left behind
