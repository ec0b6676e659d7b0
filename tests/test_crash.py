"""Real-process crash tests: `python -m bot` against the emulator, killed with SIGKILL (not an
in-process stop) at the moments issue 14 names, then started again on the same database.

- inside the resident's receipt send, answerCallbackQuery or the button clean-up after
  «✅ Send»: the ticket is filed once and the resident gets the tracking code (at most the
  single in-flight message twice);
- 0.1 s after the summary appeared, or after a staff reason prompt: the form and the prompt
  survive (they live in our own tables);
- the outbox mid-batch: every message arrives, in order per chat, at most the in-flight one
  twice;
- the SLA sweep mid-batch: every overdue request escalated exactly once.

SQLite only, by nature: a process killed while it writes a database file (PostgreSQL's own
failover is the leadership tests').
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock, SystemClock
from bot.config import Settings
from bot.deps import Deps
from bot.domain.tickets import Kind
from bot.outbox_queue import OutboxQueue
from bot.sandbox.emulator import Emulator, EmuUser
from bot.services.reference import load_reference
from bot.services.tickets import Draft, file_ticket
from storage import people, places
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "424243:CRASH-TEST"
RESIDENT = 7001
CODE_RE = re.compile(r"کد پیگیری شما:\n([A-Z0-9]{6})")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


@dataclass
class Bot:
    """One `python -m bot` process after another, on the same database and emulator."""

    emu: Emulator
    tmp: Path
    env: dict[str, str]
    proc: asyncio.subprocess.Process | None = None
    runs: int = 0
    logs: list[Path] = field(default_factory=list)

    async def start(self) -> None:
        self.runs += 1
        log = self.tmp / f"bot-{self.runs}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=self.tmp, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=out)

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        self.proc = None

    async def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
            self.proc = None

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.env["DATABASE_PATH"], timeout=10)
        conn.row_factory = sqlite3.Row
        return conn


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    emu = Emulator(token=TOKEN)
    await emu.start()
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("BOT_", "ADMIN", "DATABASE", "SLA_", "METRICS"))}
    env.update(BOT_TOKEN=TOKEN, BOT_API_BASE_URL=emu.base_url,
               DATABASE_PATH=str(tmp_path / "crash.sqlite3"), PYTHONPATH=str(ROOT))
    runner = Bot(emu, tmp_path, env)
    try:
        yield runner
    finally:
        await runner.stop()
        await emu.stop()
    assert "Traceback" not in runner.log_text()


async def until(check: Callable[[], Any], timeout: float = 20.0, step: float = 0.02) -> Any:
    """Poll `check` (it reads another process's database or the emulator's records)."""
    async with asyncio.timeout(timeout):
        while not (found := check()):  # noqa: ASYNC110
            await asyncio.sleep(step)
    return found


def requested(emu: Emulator, method: str, text: str | None = None) -> int:
    return sum(1 for m, p in emu.requests
               if m == method and (text is None or text in str(p.get("text", ""))))


async def to_summary(bot: Bot) -> dict[str, Any]:
    """A resident goes from the deep link to the summary of a new request."""
    emu = bot.emu
    emu.add_user(EmuUser(id=RESIDENT, first_name="زهرا", language_code="fa"))
    emu.send_text(RESIDENT, "/start n_ISL01")
    consent = await emu.wait_for_message(RESIDENT, lambda m: "موافقم" in str(m), timeout=30)
    last = consent["message_id"]
    emu.press(RESIDENT, last, _data(consent, "موافقم"))
    kinds = await emu.wait_for_message(RESIDENT, lambda m: "نیاز" in str(m.get("reply_markup")),
                                       after=0, timeout=10)
    emu.press(RESIDENT, kinds["message_id"], _data(kinds, "نیاز"))
    cats = await emu.wait_for_message(RESIDENT, lambda m: "مسکن" in str(m.get("reply_markup")),
                                      timeout=10)
    emu.press(RESIDENT, cats["message_id"], _data(cats, "مسکن"))
    await asyncio.sleep(0.3)
    mark = max(m["message_id"] for m in emu.bot_messages(RESIDENT))
    emu.send_text(RESIDENT, "سقف خانه چکه می‌کند و آب به اتاق بچه‌ها می‌ریزد")
    ack = await emu.wait_for_message(RESIDENT, lambda m: "تمام" in str(m.get("reply_markup")),
                                     after=mark, timeout=10)
    emu.press(RESIDENT, ack["message_id"], _data(ack, "تمام"))
    await asyncio.sleep(0.3)
    mark = max(m["message_id"] for m in emu.bot_messages(RESIDENT))
    emu.send_text(RESIDENT, "➡️ ادامه")
    return await emu.wait_for_message(RESIDENT, lambda m: "فرستادن" in str(
        m.get("reply_markup")), after=mark, timeout=10)


def _data(message: dict[str, Any], label: str) -> str:
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for button in row:
            if label in button["text"]:
                return str(button["callback_data"])
    raise AssertionError(f"no {label!r} in {message}")


def codes_received(emu: Emulator) -> list[str]:
    return [m.group(1) for msg in emu.bot_messages(RESIDENT)
            if (m := CODE_RE.search(_MARKS.sub("", msg.get("text", ""))))]


@pytest.mark.parametrize(("method", "delivered"), [
    ("sendMessage", False), ("sendMessage", True), ("answerCallbackQuery", False),
    ("editMessageReplyMarkup", False)])
async def test_killed_after_send_pressed_resident_still_gets_the_code(
        bot: Bot, method: str, delivered: bool) -> None:
    await bot.start()
    summary = await to_summary(bot)
    # The call hangs (kill inside it); `delivered`: Telegram has the message already, only
    # its answer is late (then the code may arrive twice: the single in-flight message).
    bot.emu.set_delay(method, 120.0, after=delivered)
    before = requested(bot.emu, method)
    bot.emu.press(RESIDENT, summary["message_id"], _data(summary, "فرستادن"))
    await until(lambda: requested(bot.emu, method) > before)
    await bot.kill()
    bot.emu.clear_faults()
    with bot.db() as conn:
        filed = [r["code"] for r in conn.execute("SELECT code FROM tickets")]
    assert len(filed) == 1                          # accepted before the kill
    await bot.start()
    await until(lambda: codes_received(bot.emu), timeout=30)
    await asyncio.sleep(1.5)                        # nothing else arrives
    codes = codes_received(bot.emu)
    assert set(codes) == set(filed) and 1 <= len(codes) <= 2
    with bot.db() as conn:
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 1


async def test_killed_after_summary_the_form_survives(bot: Bot) -> None:
    await bot.start()
    summary = await to_summary(bot)
    await asyncio.sleep(0.1)
    await bot.kill()
    await bot.start()
    bot.emu.press(RESIDENT, summary["message_id"], _data(summary, "فرستادن"))
    await until(lambda: codes_received(bot.emu), timeout=30)
    with bot.db() as conn:
        assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 1


# ---------------------------------------------------------------------------- batches

async def _seed(path: Path, work: Callable[[Deps], Any], clock: Any = None) -> None:
    db = Database(path)
    await db.open()
    await load_reference(db)
    clock = clock or SystemClock()
    settings = Settings(_env_file=None, database_path=path)  # type: ignore[call-arg]
    try:
        await work(Deps(settings=settings, db=db, clock=clock, outbox=OutboxQueue(db, clock)))
    finally:
        await db.close()


async def test_outbox_killed_mid_batch_delivers_everything_in_order(bot: Bot) -> None:
    chats = list(range(7101, 7121))
    for uid in chats:
        bot.emu.add_user(EmuUser(id=uid, first_name=f"u{uid}"))

    async def queue(deps: Deps) -> None:
        async with deps.db.tx() as conn:
            for n in range(3):
                for uid in chats:
                    await deps.outbox.enqueue(conn, chat_id=uid, key=f"b:{uid}:{n}",
                                              kind="status", text=f"m{n} for {uid}")
    await _seed(Path(bot.env["DATABASE_PATH"]), queue)
    bot.emu.set_delay("sendMessage", 0.05)
    await bot.start()
    await until(lambda: requested(bot.emu, "sendMessage", " for ") >= 20, timeout=30)
    await bot.kill()
    await bot.start()
    await until(lambda: all(len(_texts(bot.emu, uid)) >= 3 and _texts(bot.emu, uid)[-1]
                            == f"m2 for {uid}" for uid in chats), timeout=40)
    for uid in chats:
        got = _texts(bot.emu, uid)
        collapsed = [t for i, t in enumerate(got) if i == 0 or got[i - 1] != t]
        assert collapsed == [f"m{n} for {uid}" for n in range(3)], got
        assert len(got) <= 4                         # at most the in-flight one twice


_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _texts(emu: Emulator, chat_id: int) -> list[str]:
    """The chat's bot texts without bidi marks (`bot/ui/bidi.py` adds them to Latin runs)."""
    return [_MARKS.sub("", m["text"]) for m in emu.bot_messages(chat_id)]


async def test_sla_sweep_killed_mid_batch_escalates_once(bot: Bot) -> None:
    mayor = 7200
    past = FakeClock()
    past.set(SystemClock().now() - timedelta(days=10))

    async def overdue(deps: Deps) -> None:
        async with deps.db.tx() as conn:
            n = await places.neighbourhood_by_code(conn, "ISL01")
            c = await places.category_by_code(conn, "housing")
            assert n and c
            await people.upsert(conn, mayor, "مریم", None, past.now())
            await people.add_role(conn, mayor, "mayor", house_id=None,
                                  scope_kind="neighbourhood", scope_id=n.id, created_by=None,
                                  now=past.now())
            for uid in range(7300, 7310):
                await people.upsert(conn, uid, "ساکن", None, past.now())
        for i in range(450):
            await file_ticket(deps, Draft(resident_id=7300 + i % 10, neighbourhood_id=n.id,
                                          kind=Kind.NEED, category_id=c.id, text=f"t{i}"),
                              idem_key=f"sla{i}")
        async with deps.db.tx() as conn:
            await conn.execute("UPDATE outbox SET status = 'sent'")   # announcements: done
    await _seed(Path(bot.env["DATABASE_PATH"]), overdue, past)
    bot.env["SLA_SWEEP_SECONDS"] = "0.5"
    bot.emu.add_user(EmuUser(id=mayor, first_name="مریم"))
    for uid in range(7300, 7310):
        bot.emu.add_user(EmuUser(id=uid, first_name="ساکن"))
    await bot.start()

    def breaches() -> int:
        with bot.db() as conn:
            return int(conn.execute("SELECT count(*) FROM sla_actions WHERE action = "
                                    "'breach'").fetchone()[0])
    await until(lambda: breaches() > 0, timeout=40, step=0.005)
    await bot.kill()
    first = breaches()
    print("breaches committed at the kill:", first)
    await bot.start()
    await until(lambda: breaches() >= 450, timeout=60)
    await asyncio.sleep(1.0)
    await bot.stop()
    with bot.db() as conn:
        done = conn.execute("""SELECT a.ticket_id, a.window_no, t.resident_id FROM sla_actions a
            JOIN tickets t ON t.id = a.ticket_id WHERE a.action = 'breach'""").fetchall()
        keys = {r[0] for r in conn.execute("SELECT idem_key FROM outbox")}
    assert len(done) == 450 and len({r["ticket_id"] for r in done}) == 450
    for row in done:                  # each breach came with its notices, in its transaction
        prefix = f"sla:{row['ticket_id']}:{row['window_no']}:breach:"
        assert f"{prefix}{mayor}" in keys and f"{prefix}{row['resident_id']}" in keys
    assert 0 < first < 450 or first == 450           # the kill came during the sweep
    sent = [_MARKS.sub("", str(p.get("text"))) for m, p in bot.emu.requests
            if m == "sendMessage" and p.get("chat_id") == mayor]
    assert len(sent) - len(set(sent)) <= 1           # at most the in-flight one twice


async def test_killed_after_a_reason_prompt_the_prompt_survives(bot: Bot) -> None:
    staff, resident = 7401, 7402
    codes: list[str] = []

    async def seed_ticket(deps: Deps) -> None:
        now = deps.clock.now()
        async with deps.db.tx() as conn:
            n = await places.neighbourhood_by_code(conn, "ISL01")
            c = await places.category_by_code(conn, "housing")
            house = await places.house_by_code(conn, "welfare")
            assert n and c and house
            await people.upsert(conn, staff, "علی", None, now)
            await people.upsert(conn, resident, "زهرا", None, now)
            await people.add_role(conn, staff, "staff", house_id=house.id,
                                  scope_kind="neighbourhood", scope_id=n.id, created_by=None,
                                  now=now)
        ticket, _ = await file_ticket(deps, Draft(resident_id=resident, neighbourhood_id=n.id,
                                                  kind=Kind.NEED, category_id=c.id,
                                                  text="سقف"), idem_key="p1")
        codes.append(ticket.code)
    await _seed(Path(bot.env["DATABASE_PATH"]), seed_ticket)
    emu = bot.emu
    emu.add_user(EmuUser(id=staff, first_name="علی"))
    emu.add_user(EmuUser(id=resident, first_name="زهرا"))
    await bot.start()
    emu.send_text(staff, f"/show {codes[0]}")
    card = await emu.wait_for_message(staff, lambda m: "پاسخ" in str(m.get("reply_markup")),
                                      timeout=30)
    emu.press(staff, card["message_id"], _data(card, "پاسخ"))
    prompt = await emu.wait_for_message(staff, after=card["message_id"], timeout=10)
    await asyncio.sleep(0.1)
    await bot.kill()
    await bot.start()
    emu.send_text(staff, "فردا تماس می‌گیریم", reply_to=prompt["message_id"])
    answer = await emu.wait_for_message(resident, lambda m: "فردا تماس" in m.get("text", ""),
                                        timeout=30)
    assert codes[0] in answer["text"]
