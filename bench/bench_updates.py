"""Peak hour: how many updates per second the real bot answers, and how fast, against a fast
fake Bot API, next to two baselines measured in the same run.

Run: python -m bench.bench_updates [--reps 3] [--residents 1200] [--quick]

Three bots, each its own process polling the same fake Bot API (its own process too):
  echo     a minimal PTB echo bot (replies with the text; a press: answer + edit)
  durable  the echo bot that also commits one row per update to SQLite (aiosqlite, WAL)
  real     this bot as `python -m bot` runs it (bot.__main__.main with BOT_TOKEN and
           BOT_API_BASE_URL pointing at the fake API; a fresh database per run)

Workload: residents (first-time) who each send /start, a text, /help and /my, and half of
them press a button (the language button), each update at least 1 s after their previous
one and not before the bot answered it (a person waits for the answer); a few "order probe"
chats send three updates at once, so order within a chat is tested under load.

Measurements, each interleaved (echo, durable, real, echo, ...) `--reps` times, min/median:
  unthrottled   budgets off (a bench-only switch): updates/s, ratio to the durable echo and
                to the echo;
  budgets       Telegram's budgets on (the echo bot with the same sender and budgets):
                updates/s, ratio;
  latency       20 updates/s of mixed traffic with first-time /starts while 200 staff
                notifications are queued in the outbox: p50/p95 first-reply latency;
plus per-chat order (replies out of order), peak RSS of each bot process, CPU ms per update
(with and without start-up: the second counts from the bot's first poll), and the fake
API's own ceiling (requests/s it serves on its own, compared with the most any run asked
of it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "123456:BENCH-TOKEN"
BOT_ID = 123456
NAME = "Resident"
TEXT = "سلام، یک سؤال داشتم"
GAP = 1.0                  # seconds between one person's updates (at least)
KINDS = ("/start", "text", "/help", "/my")
SEND_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto",
                "sendDocument", "copyMessage", "forwardMessage")
WARM_CHAT = 9_000_000
TRACE = bool(os.environ.get("BENCH_TRACE"))


# ====================================================================== the fake Bot API

@dataclass
class Pending:
    update_id: int
    chat: int
    kind: str
    released: float
    replied: float | None = None


@dataclass
class Person:
    chat: int
    plan: list[str]
    probe: bool = False
    next_index: int = 0
    last_release: float = -1e9
    waiting: Pending | None = None


@dataclass
class Trial:
    """One run of a workload against one bot."""
    mode: str                      # "closed" (throughput) or "open" (fixed rate)
    people: dict[int, Person]
    rate: float = 0.0              # open: updates/s
    warm: list[str] = field(default_factory=list)
    started: float | None = None
    next_update_id: int = 1
    queue: deque[dict[str, Any]] = field(default_factory=deque)
    pending: dict[int, list[Pending]] = field(default_factory=dict)
    done_updates: list[Pending] = field(default_factory=list)
    fingerprints: dict[str, set[str]] = field(default_factory=dict)
    callback_ids: dict[str, Pending] = field(default_factory=dict)
    out_of_order: int = 0
    unmatched: int = 0
    sends: list[tuple[float, int]] = field(default_factory=list)     # (t, chat) sends/edits
    calls: list[float] = field(default_factory=list)
    total: int = 0
    open_schedule: deque[tuple[float, int]] = field(default_factory=deque)


class FakeApi:
    """A small HTTP/1.1 server speaking enough of the Bot API for these bots; it also plays
    the residents (releases their updates) and records every call."""

    def __init__(self) -> None:
        self.trial: Trial | None = None
        self.new_updates = asyncio.Event()
        self.message_id = 1000
        self.warm_texts: list[str] = []
        self.warming: Pending | None = None

    # ---------------------------------------------------------------- HTTP plumbing

    def respond(self, transport: asyncio.Transport, status: int, payload: Any) -> None:
        if transport.is_closing():
            return
        data = json.dumps(payload, ensure_ascii=False).encode()
        transport.write(b"HTTP/1.1 %d OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (status, len(data), data))

    def route(self, transport: asyncio.Transport, path: str, body: bytes) -> None:
        if path.startswith("/ctl/"):
            self.respond(transport, 200, self.control(path[5:], json.loads(body or b"{}")))
            return
        name = path.rsplit("/", 1)[-1]
        params = dict(parse_qsl(body.decode())) if body else {}
        if TRACE:
            print(f"{time.monotonic():.3f} {name} {str(params)[:120]}", file=sys.stderr)
        if name == "getUpdates":
            task = asyncio.get_running_loop().create_task(self.get_updates(params))
            task.add_done_callback(lambda t: self.respond(
                transport, 200, {"ok": True, "result": t.result()}))
            return
        self.respond(transport, 200, {"ok": True, "result": self.call(name, params)})

    # ---------------------------------------------------------------- Bot API methods

    def bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Bench", "username": "bench_bot",
                "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def call(self, name: str, params: dict[str, str]) -> Any:
        now = time.monotonic()
        trial = self.trial
        if name == "getMe":
            return self.bot_user()
        if trial is not None:
            trial.calls.append(now)
        if name == "answerCallbackQuery":
            if trial is not None:
                self.replied(trial, None, params.get("callback_query_id", ""), "", now)
            return True
        if "chat_id" not in params:
            return True
        chat = int(params["chat_id"])
        text = params.get("text", "")
        if trial is not None and name in SEND_METHODS:
            trial.sends.append((now, chat))
            self.replied(trial, chat, None, f"{name}:{text}", now)
        if name.startswith("send") or name.startswith("edit"):
            self.message_id += 1
            message_id = int(params.get("message_id", self.message_id))
            return {"message_id": message_id, "date": int(time.time()),
                    "chat": {"id": chat, "type": "private" if chat > 0 else "group",
                             "first_name": NAME, "title": "g"},
                    "from": self.bot_user(), "text": text}
        return True

    async def get_updates(self, params: dict[str, str]) -> list[dict[str, Any]]:
        trial = self.trial
        timeout = float(params.get("timeout", "0"))
        offset = int(params.get("offset", "0"))
        if trial is not None and trial.started is None:
            trial.started = time.monotonic()
            asyncio.get_running_loop().create_task(self.play(trial))
        deadline = time.monotonic() + timeout
        while trial is not None and trial is self.trial:   # a dead bot's poll stops here
            while trial.queue and trial.queue[0]["update_id"] < offset:
                trial.queue.popleft()
            if trial.queue:
                return list(itertools.islice(trial.queue, 100))
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            self.new_updates.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.new_updates.wait(), timeout=left)
        return []

    # ---------------------------------------------------------------- residents

    def update(self, trial: Trial, chat: int, kind: str) -> Pending:
        update_id = trial.next_update_id
        trial.next_update_id += 1
        user = {"id": chat, "is_bot": False, "first_name": NAME, "language_code": "fa"}
        chat_obj = {"id": chat, "type": "private", "first_name": NAME}
        now = time.monotonic()
        if kind == "press":
            query = {"id": f"cq{update_id}", "from": user, "chat_instance": f"ci{chat}",
                     "data": "lang:set:fa",
                     "message": {"message_id": 1, "date": int(time.time()), "chat": chat_obj,
                                 "from": self.bot_user(), "text": "Choose your language:"}}
            body: dict[str, Any] = {"update_id": update_id, "callback_query": query}
        else:
            text = TEXT if kind == "text" else kind
            message: dict[str, Any] = {"message_id": update_id, "date": int(time.time()),
                                       "chat": chat_obj, "from": user, "text": text}
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0,
                                        "length": len(text)}]
            body = {"update_id": update_id, "message": message}
        pending = Pending(update_id, chat, kind, now)
        if kind == "press":
            trial.callback_ids[f"cq{update_id}"] = pending
        trial.pending.setdefault(chat, []).append(pending)
        trial.queue.append(body)
        self.new_updates.set()
        return pending

    def replied(self, trial: Trial, chat: int | None, callback_id: str | None, text: str,
                now: float) -> None:
        if self.warming is not None:
            self.warm_texts.append(text)
        if callback_id is not None:
            found = trial.callback_ids.pop(callback_id, None)
            if found is None:
                return
            chat = found.chat
            if found.replied is None:
                self.first_reply(trial, found, now)
            return
        assert chat is not None
        waiting = trial.pending.get(chat)
        if not waiting:
            return
        kinds = {k for k, texts in trial.fingerprints.items() if text in texts}
        for index, pending in enumerate(waiting):
            if pending.kind in kinds:
                if index > 0:
                    trial.out_of_order += 1
                self.first_reply(trial, pending, now)
                return
        trial.unmatched += 1

    def first_reply(self, trial: Trial, pending: Pending, now: float) -> None:
        pending.replied = now
        with contextlib.suppress(ValueError):
            trial.pending[pending.chat].remove(pending)
        trial.done_updates.append(pending)
        person = trial.people.get(pending.chat)
        if person is not None and person.waiting is pending:
            person.waiting = None
            self.answered(trial, person, now)

    async def play(self, trial: Trial) -> None:
        """Warm up (learn what each kind of update is answered with: one fresh chat per
        kind), then release the residents' updates: closed loop (each person waits for the
        answer and ≥ 1 s) or at a fixed rate."""
        for index, kind in enumerate(trial.warm):
            self.warm_texts = []
            self.warming = self.update(trial, WARM_CHAT + index, kind)
            for _ in range(400):           # the first answer (budgets may delay it) ...
                if self.warm_texts:
                    break
                await asyncio.sleep(0.025)
            await asyncio.sleep(0.2)        # ... and what comes at once with it
            trial.fingerprints.setdefault(kind, set()).update(self.warm_texts)
        self.warming = None
        trial.pending.clear()
        trial.callback_ids.clear()
        trial.done_updates.clear()
        trial.sends.clear()
        trial.calls.clear()
        trial.out_of_order = trial.unmatched = 0
        trial.started = time.monotonic()
        start = trial.started
        people = list(trial.people.values())
        if trial.mode == "open":
            for when, chat in trial.open_schedule:
                delay = start + when - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.release(trial, trial.people[chat])
            return
        loop = asyncio.get_running_loop()
        residents = [p for p in people if not p.probe]
        for i, person in enumerate(residents):   # first updates spread over the first second
            loop.call_later(i / len(residents), self.release, trial, person)
        for person in people:
            if person.probe:
                for kind in person.plan:
                    self.update(trial, person.chat, kind)
                person.next_index = len(person.plan)

    def release(self, trial: Trial, person: Person) -> None:
        if trial is not self.trial or person.next_index >= len(person.plan):
            return
        person.last_release = time.monotonic()
        person.waiting = self.update(trial, person.chat, person.plan[person.next_index])
        person.next_index += 1

    def answered(self, trial: Trial, person: Person, now: float) -> None:
        """A person reads the answer; the next update comes ≥ GAP after the previous one."""
        if trial.mode != "closed":
            return
        delay = max(person.last_release + GAP - now, 0.0)
        asyncio.get_running_loop().call_later(delay, self.release, trial, person)

    # ---------------------------------------------------------------- control

    def control(self, what: str, body: dict[str, Any]) -> Any:
        if what == "prepare":
            self.trial = make_trial(body)
            self.new_updates.set()
            return {"ok": True}
        trial = self.trial
        assert trial is not None
        if what == "status":
            return {"started": trial.started is not None, "done": len(trial.done_updates),
                    "total": trial.total,
                    "released": trial.next_update_id - 1}
        if what == "result":
            return summarise(trial)
        return {"ok": False}


def make_trial(body: dict[str, Any]) -> Trial:
    people: dict[int, Person] = {}
    for i in range(body["residents"]):
        chat = 10_000_000 + i
        plan = list(KINDS) + (["press"] if i % 2 == 0 else [])
        people[chat] = Person(chat, plan)
    for i in range(body.get("probes", 0)):
        chat = 20_000_000 + i
        people[chat] = Person(chat, ["/help", "text", "/my"], probe=True)
    trial = Trial(mode=body["mode"], people=people, rate=body.get("rate", 0.0),
                  warm=["/start", "text", "/help", "/my", "press"])
    trial.total = sum(len(p.plan) for p in people.values())
    if trial.mode == "open":
        # Round-robin over the residents at `rate`; a person's next update comes
        # residents/rate seconds later (≥ 1 s by construction).
        residents = [p for p in people.values() if not p.probe]
        slots = []
        for k in range(max(len(p.plan) for p in residents)):
            slots += [p.chat for p in residents if k < len(p.plan)]
        trial.open_schedule = deque((n / trial.rate, chat) for n, chat in enumerate(slots))
        trial.total = len(slots)
    return trial


def summarise(trial: Trial) -> dict[str, Any]:
    assert trial.started is not None
    done = [p for p in trial.done_updates if p.replied is not None]
    probes = {c for c, p in trial.people.items() if p.probe}
    latencies = sorted((p.replied - p.released) * 1000 for p in done  # type: ignore[operator]
                       if p.chat not in probes)
    last = max((p.replied for p in done), default=trial.started)  # type: ignore[type-var]
    elapsed = max(last - trial.started, 1e-9)
    # Budgets as Telegram counts them: sends/edits per second overall, per private chat.
    per_second: dict[int, int] = {}
    private_close = 0
    last_to: dict[int, float] = {}
    for at, chat in trial.sends:
        per_second[int(at - trial.started)] = per_second.get(int(at - trial.started), 0) + 1
        if chat > 0 and at - last_to.get(chat, -1e9) < 0.95:
            private_close += 1
        last_to[chat] = at
    calls_per_second: dict[int, int] = {}
    for at in trial.calls:
        calls_per_second[int(at - trial.started)] = \
            calls_per_second.get(int(at - trial.started), 0) + 1
    return {
        "updates": len(done), "total": trial.total, "elapsed": elapsed,
        "rate": len(done) / elapsed,
        "p50": latencies[len(latencies) // 2] if latencies else None,
        "p95": latencies[int(len(latencies) * 0.95)] if latencies else None,
        "out_of_order": trial.out_of_order, "unmatched": trial.unmatched,
        "sends": len(trial.sends), "max_sends_per_s": max(per_second.values(), default=0),
        "private_under_1s": private_close,
        "max_calls_per_s": max(calls_per_second.values(), default=0),
        "fingerprints": {k: sorted(v)[:3] for k, v in trial.fingerprints.items()},
        "slowest": sorted(((p.replied - p.released) * 1000,  # type: ignore[operator]
                           p.kind, p.released - trial.started) for p in done)[-12:],
    }


class Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, one request at a time per connection (as httpx sends)."""

    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                if line[:15].lower() == "content-length:":
                    length = int(line[15:])
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            path = head.split(" ", 2)[1]
            assert self.transport is not None
            self.api.route(self.transport, path, body)


async def run_api(port: int) -> None:
    api = FakeApi()
    server = await asyncio.get_running_loop().create_server(
        lambda: Connection(api), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


# ====================================================================== the fake API's ceiling

async def hammer(port: int, seconds: float, connections: int) -> None:
    """Many keep-alive connections each sending sendMessage in turn; prints requests/s."""
    body = b"chat_id=-5&text=ceiling"
    request = (b"POST /bot%s/sendMessage HTTP/1.1\r\nHost: x\r\nContent-Type: "
               b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
               % (TOKEN.encode(), len(body), body))
    count = 0
    stop = time.monotonic() + seconds

    async def one() -> None:
        nonlocal count
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            count += 1
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(connections)))
    print(json.dumps({"rps": count / (time.monotonic() - started)}))


# ====================================================================== the bots

def run_echo(port: int, durable: str | None, budgets: bool) -> None:
    from telegram import Update
    from telegram.ext import (
        ApplicationBuilder,
        CallbackQueryHandler,
        ContextTypes,
        MessageHandler,
        filters,
    )

    async def keep(update: Update) -> None:
        if db is not None:
            await db.execute("INSERT INTO seen(update_id, at) VALUES (?, ?)",
                             (update.update_id, time.time()))

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await keep(update)
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "?")

    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await keep(update)
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"pressed {query.data}")

    db: Any = None

    async def post_init(app: Any) -> None:
        nonlocal db
        if durable:
            import aiosqlite

            db = await aiosqlite.connect(durable, isolation_level=None)
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("CREATE TABLE IF NOT EXISTS seen(update_id INTEGER PRIMARY KEY, "
                             "at REAL)")

    async def post_shutdown(app: Any) -> None:
        if db is not None:
            await db.close()

    builder = (ApplicationBuilder().token(TOKEN).base_url(f"http://127.0.0.1:{port}/bot")
               .post_init(post_init).post_shutdown(post_shutdown))
    if budgets:   # the same budgets as the real bot: its sender, Telegram's limits
        from bot.sender import Budgets, PrioritySender
        from bot.update_order import PerChatProcessor

        builder = builder.rate_limiter(PrioritySender(Budgets()))
        builder = builder.concurrent_updates(PerChatProcessor(32))
    app = builder.build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(press))
    app.run_polling(allowed_updates=Update.ALL_TYPES, close_loop=False)


def run_real(port: int, database: str, budgets: bool) -> None:
    os.environ.update({"BOT_TOKEN": TOKEN, "BOT_API_BASE_URL": f"http://127.0.0.1:{port}/bot",
                       "DATABASE_PATH": database, "LOG_LEVEL": "WARNING", "ADMIN_IDS": "",
                       "ADMIN_CHAT_ID": "", "METRICS_PORT": "", "BACKUP_DIR": "",
                       "WEBHOOK_URL": ""})
    if not budgets:
        unthrottle()
    if os.environ.get("BENCH_SEQUENTIAL"):
        import bot.app

        bot.app.CONCURRENT_UPDATES = 1
    from bot.__main__ import main

    if os.environ.get("BENCH_PROFILE"):    # a cProfile of the bot process, for diagnosis
        import cProfile

        profile = cProfile.Profile()
        try:
            profile.runcall(main, ["run"])
        finally:
            profile.dump_stats(os.environ["BENCH_PROFILE"])
        return
    sys.exit(main(["run"]))


def unthrottle() -> None:
    """The bench-only switch: no sending budgets at all (replies and outbox)."""
    import bot.app
    import bot.outbox

    bot.app.SENDING_BUDGETS = False
    original = bot.outbox.RateLimiter.__init__

    def fast(self: Any, **kwargs: Any) -> None:
        original(self, per_second=1e9, private_interval=0.0, group_per_minute=10**9)

    bot.outbox.RateLimiter.__init__ = fast  # type: ignore[method-assign]


def seed_outbox(database: str, notifications: int) -> None:
    """200 staff notifications waiting in the outbox when the bot starts."""
    from bot.clock import SystemClock
    from bot.outbox_queue import OutboxQueue
    from storage.db import Database

    async def go() -> None:
        db = Database(database)
        await db.open()
        queue = OutboxQueue(db, SystemClock())
        async with db.tx() as conn:
            for i in range(notifications):
                await queue.enqueue(conn, chat_id=30_000_000 + i % 50, key=f"staff:{i}",
                                    kind="bench", text=f"staff notification {i}")
        await db.close()

    asyncio.run(go())


# ====================================================================== the orchestrator

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ctl(port: int, what: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/ctl/{what}",
                                     data=json.dumps(body or {}).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


@dataclass
class Outcome:
    result: dict[str, Any]
    rss_mib: float
    cpu_ms_per_update: float
    steady_cpu_ms_per_update: float     # from the first poll to the end: no start-up


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a running process, all threads (Linux /proc; else None)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def trial(port: int, bot: str, workload: dict[str, Any], budgets: bool, limit: float
          ) -> Outcome:
    with tempfile.TemporaryDirectory() as folder:
        database = str(Path(folder) / "bench.sqlite3")
        if bot == "real" and workload.get("outbox"):
            seed_outbox(database, workload["outbox"])
        ctl(port, "prepare", workload)
        args = [sys.executable, "-m", "bench.bench_updates", "--child", bot, "--port",
                str(port), "--database", database] + ([] if budgets else ["--unthrottled"])
        log = open(Path(folder) / "stderr.txt", "w+b")
        child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + limit
        cpu_at_start = None
        while time.monotonic() < deadline:
            status = ctl(port, "status")
            if status["started"] and cpu_at_start is None:
                cpu_at_start = cpu_seconds(child.pid)    # start-up done: it polls
            if status["started"] and status["done"] >= status["total"]:
                break
            if child.poll() is not None:
                break
            time.sleep(0.1)
        time.sleep(0.3)    # late replies still count for the order check
        result = ctl(port, "result")
        cpu_at_end = cpu_seconds(child.pid)
        child.send_signal(signal.SIGINT)
        try:
            _, code, usage = os.wait4(child.pid, 0)
        except ChildProcessError:
            code, usage = 0, None
        log.seek(0)
        stderr = log.read().decode(errors="replace")
        log.close()
        child.returncode = code
        if result["updates"] < result["total"]:
            print(f"  ! {bot}: {result['updates']}/{result['total']} answered in time;"
                  f" stderr tail: {stderr[-600:]}", file=sys.stderr)
        cpu = (usage.ru_utime + usage.ru_stime) if usage else 0.0
        rss = usage.ru_maxrss / 1024 if usage else 0.0
        steady = (cpu_at_end - cpu_at_start if cpu_at_start is not None
                  and cpu_at_end is not None else float("nan"))
        updates = max(result["updates"], 1)
        return Outcome(result, rss, cpu * 1000 / updates, steady * 1000 / updates)


def line(label: str, values: list[float], unit: str, fmt: str = "{:.1f}") -> str:
    ordered = sorted(values)
    return (f"  {label:<34} min {fmt.format(ordered[0])}  median "
            f"{fmt.format(statistics.median(ordered))} {unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--residents", type=int, default=600,
                        help="residents in the unthrottled runs (offered load ≤ residents/s)")
    parser.add_argument("--budget-residents", type=int, default=50)
    parser.add_argument("--latency-residents", type=int, default=50)
    parser.add_argument("--probes", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="one repetition, fewer people")
    parser.add_argument("--child", choices=["echo", "durable", "real"], help=argparse.SUPPRESS)
    parser.add_argument("--api", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hammer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--unthrottled", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.api:
        asyncio.run(run_api(args.port))
        return
    if args.hammer:
        asyncio.run(hammer(args.port, 2.0, 32))
        return
    if args.child == "real":
        run_real(args.port, args.database, not args.unthrottled)
        return
    if args.child:
        run_echo(args.port, args.database if args.child == "durable" else None,
                 not args.unthrottled)
        return
    orchestrate(args)


def orchestrate(args: argparse.Namespace) -> None:
    if args.quick:
        args.reps, args.residents = 1, 400
    began = time.monotonic()
    port = free_port()
    api = subprocess.Popen([sys.executable, "-m", "bench.bench_updates", "--api", "--port",
                            str(port)])
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        ceiling = json.loads(subprocess.run(
            [sys.executable, "-m", "bench.bench_updates", "--hammer", "--port", str(port)],
            capture_output=True, text=True, check=True).stdout)["rps"]
        report(args, port, ceiling)
    finally:
        api.terminate()
        api.wait()
    print(f"\nbench took {time.monotonic() - began:.0f} s")


def report(args: argparse.Namespace, port: int, ceiling: float) -> None:
    runs: dict[tuple[str, str], list[Outcome]] = {}
    fast = {"mode": "closed", "residents": args.residents, "probes": args.probes}
    slow = {"mode": "closed", "residents": args.budget_residents, "probes": args.probes}
    paced = {"mode": "open", "residents": args.latency_residents, "rate": 20.0,
             "probes": 0, "outbox": 200}
    plan = [("unthrottled", fast, False, ("echo", "durable", "real")),
            ("budgets", slow, True, ("echo", "real")),
            ("latency", paced, True, ("echo", "real"))]
    for rep in range(args.reps):
        for name, workload, budgets, bots in plan:
            for bot in bots:
                outcome = trial(port, bot, workload, budgets, limit=120)
                runs.setdefault((name, bot), []).append(outcome)
                r = outcome.result
                print(f"rep {rep + 1} {name:<11} {bot:<8} {r['rate']:7.1f} updates/s  "
                      f"p95 {r['p95'] or 0:7.1f} ms  out of order {r['out_of_order']}  "
                      f"sends {r['sends']} (max {r['max_sends_per_s']}/s)  "
                      f"RSS {outcome.rss_mib:.0f} MiB", flush=True)
    busiest = max(o.result["max_calls_per_s"] for v in runs.values() for o in v)
    print(f"\nfake Bot API ceiling: {ceiling:.0f} requests/s on its own; the busiest second of "
          f"any run asked {busiest} ({ceiling / max(busiest, 1):.1f}× headroom)")
    total = {k: v[0].result["total"] for k, v in runs.items()}

    def rates(name: str, bot: str) -> list[float]:
        return [o.result["rate"] for o in runs[(name, bot)]]

    print(f"\nunthrottled ({args.residents} residents + {args.probes} order probes, "
          f"{total[('unthrottled', 'real')]} updates; offered ≤ {args.residents}/s):")
    for bot in ("echo", "durable", "real"):
        print(line(f"{bot} updates/s", rates("unthrottled", bot), ""))
    real, durable, echo = (statistics.median(rates("unthrottled", b))
                           for b in ("real", "durable", "echo"))
    print(f"  real / durable echo  {real / durable:.2f}  (target ≥ 0.8);  "
          f"real / echo {real / echo:.2f}")
    print(f"\nbudgets on ({args.budget_residents} residents, "
          f"{total[('budgets', 'real')]} updates; the echo with the same sender and budgets):")
    for bot in ("echo", "real"):
        print(line(f"{bot} updates/s", rates("budgets", bot), ""))
    ratio = statistics.median(rates("budgets", "real")) / statistics.median(
        rates("budgets", "echo"))
    print(f"  real / echo  {ratio:.2f}  (target ≥ 0.95)")
    print(f"\nlatency at 20 updates/s ({args.latency_residents} first-time residents, "
          f"{total[('latency', 'real')]} updates; real: 200 staff notifications queued):")
    for bot in ("echo", "real"):
        p95 = [o.result["p95"] or 0.0 for o in runs[("latency", bot)]]
        p50 = [o.result["p50"] or 0.0 for o in runs[("latency", bot)]]
        print(line(f"{bot} p50 first reply", p50, "ms"))
        print(line(f"{bot} p95 first reply", p95, "ms  (target ≤ 100 for real)"))
    print("\nevery run:")
    order = sum(o.result["out_of_order"] for v in runs.values() for o in v)
    unmatched = sum(o.result["unmatched"] for v in runs.values() for o in v)
    print(f"  replies out of order within a chat  {order}  (target 0)")
    print(f"  sends not matched to an update      {unmatched} (extra messages)")
    for bot in ("echo", "durable", "real"):
        rss = [o.rss_mib for (_, b), v in runs.items() if b == bot for o in v]
        unthrottled = [o for (n, b), v in runs.items() if b == bot and n == "unthrottled"
                       for o in v]
        cpu = statistics.median(o.cpu_ms_per_update for o in unthrottled)
        steady = statistics.median(o.steady_cpu_ms_per_update for o in unthrottled)
        print(f"  {bot:<8} peak RSS {max(rss):.0f} MiB (target ≤ 256 for real);  CPU "
              f"{cpu:.2f} ms/update unthrottled incl. start-up, {steady:.2f} without")
    for name in ("budgets", "latency"):
        sends = [o.result for o in runs[(name, "real")]]
        per_update = statistics.median(r["sends"] / max(r["updates"], 1) for r in sends)
        print(f"  real, {name}: sends per update {per_update:.2f}, busiest second "
              f"{max(r['max_sends_per_s'] for r in sends)} sends, private chats sent to "
              f"twice within 1 s: {max(r['private_under_1s'] for r in sends)}")
    if os.environ.get("BENCH_VERBOSE"):
        print(json.dumps(runs[("latency", "real")][0].result["fingerprints"],
                         ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
