"""The sandbox web page's server: the real bot behind the emulator, driven over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import deps_of
from bot.config import Settings
from bot.domain.tickets import Kind
from bot.sandbox import seed
from bot.sandbox.run import Sandbox
from bot.sandbox.web import make_app
from bot.services.tickets import Draft, file_ticket
from bot.ui.jalali import format_datetime
from storage import places, roles_query, updates
from storage.base import fetch_value

HEADERS = {"X-Sandbox": "1"}
RESIDENT = "resident-7001"
ROOT = Path(__file__).resolve().parent.parent


def sandbox_settings(tmp_path: Path, **overrides: Any) -> Settings:
    # The sandbox clock follows the real time of day: no quiet hours, so reminders do not
    # wait for the morning when these tests run at night (tests of quiet hours set them).
    overrides.setdefault("quiet_hours", "off")
    return Settings(_env_file=None, bot_token=None,  # type: ignore[call-arg]
                    sandbox_database_path=tmp_path / "sandbox.sqlite3", sandbox_port=0,
                    **overrides)


class Page:
    """The page's HTTP calls, as app.js makes them."""

    def __init__(self, client: TestClient, sandbox: Sandbox) -> None:  # type: ignore[type-arg]
        self.client = client
        self.sandbox = sandbox

    async def get(self, path: str) -> Any:
        response = await self.client.get(path)
        assert response.status == 200, await response.text()
        return await response.json()

    async def post(self, path: str, body: Any, status: int = 200) -> Any:
        response = await self.client.post(path, json=body, headers=HEADERS)
        assert response.status == status, await response.text()
        return await response.json()

    async def act(self, key: str, **body: Any) -> Any:
        return await self.post("/api/act", {"key": key, **body})

    async def say(self, key: str, text: str, *, contains: str = "", **extra: Any
                  ) -> dict[str, Any]:
        """Send text and wait for the bot's first answer in that chat (containing `contains`)."""
        chat_id = self.sandbox.person(key).chat_id
        emu = self.sandbox.emu
        assert emu is not None
        before = max((m["message_id"] for m in emu.chat(chat_id)), default=0)
        await self.act(key, action="text", text=text, **extra)
        return await emu.wait_for_message(chat_id, lambda m: contains in m.get("text", ""),
                                          after=before, timeout=10)


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    sandbox = Sandbox(sandbox_settings(tmp_path), poll_timeout=1)
    await sandbox.start()
    client = TestClient(TestServer(make_app(sandbox), host="127.0.0.1"))
    await client.start_server()
    try:
        yield Page(client, sandbox)
    finally:
        await client.close()
        await sandbox.stop()


async def test_page_is_rtl_persian_and_fully_local(page: Page) -> None:
    response = await page.client.get("/")
    html = await response.text()
    assert response.status == 200
    assert '<html lang="fa" dir="rtl">' in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for name in ("app.js", "app.css"):
        asset = await page.client.get(f"/static/{name}")
        assert asset.status == 200
        body = await asset.text()
        assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?(https?:)?//", body), name
    assert not re.search(r"(src|href)=\"(https?:)?//", html)        # no CDN, nothing remote
    assert (await page.client.get("/static/../run.py")).status == 404


async def test_local_only_guards(page: Page) -> None:
    foreign = await page.client.get("/api/state", headers={"Host": "evil.example:8080"})
    assert foreign.status == 403                       # DNS rebinding
    cross_site = await page.client.post("/api/act", data={"key": RESIDENT, "action": "text",
                                                          "text": "hi"})
    assert cross_site.status == 403                    # a plain cross-site form post
    emu = page.sandbox.emu
    assert emu is not None and emu.chat(7001) == []


async def test_html_from_a_resident_is_kept_as_text(page: Page) -> None:
    typed = '<script>alert("x")</script> & <b>bold</b>'
    await page.say(RESIDENT, typed)
    chat = await page.get(f"/api/chat?key={RESIDENT}")
    assert chat["messages"][0]["text"] == typed          # delivered verbatim, never parsed
    script = (ROOT / "bot/sandbox/static/app.js").read_text()
    # The page builds every node with createElement/textContent; no HTML parsing of data.
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


async def test_state_lists_every_role_and_commands(page: Page) -> None:
    state = await page.get("/api/state")
    kinds = [p["kind"] for p in state["people"]]
    assert kinds == ["resident", "mayor", "staff", "staff", "staff", "staff", "supervisor",
                     "admin", "group"]
    assert "قائمیه" in state["people"][1]["role_fa"]
    assert "بهزیستی" in state["people"][2]["role_fa"]
    chat = await page.get(f"/api/chat?key={RESIDENT}")
    assert {c["command"] for c in chat["commands"]} >= {"start", "language", "help"}
    assert chat["keyboard"] is None


async def test_seeded_roles_are_real_roles_for_the_bot(page: Page) -> None:
    sandbox = page.sandbox
    assert sandbox.app is not None
    deps = deps_of(sandbox.app)
    async with deps.db.read() as conn:
        hood = await fetch_value(conn, "SELECT id FROM neighbourhoods WHERE code='ISL01'")
        assert await roles_query.people_with_role(conn, "mayor", hood) == [seed.MAYOR]
        staff = await roles_query.people_with_role(conn, "staff", hood)
        assert staff == sorted(seed.STAFF.values())
        welfare = await fetch_value(conn, "SELECT id FROM houses WHERE code='welfare'")
        assert await roles_query.bound_groups(conn, welfare, hood) == [seed.GROUP_CHAT]
        assert await roles_query.people_with_role(conn, "supervisor", hood) == [seed.SUPERVISOR]
    assert seed.ADMIN in deps.settings.admin_ids
    # The bot itself treats them by role: staff and admins get their own help sections.
    staff_help = await page.say("staff-relief", "/help")
    assert "/queue" in staff_help["text"]
    admin_help = await page.say("admin", "/help")
    assert "/invite" in admin_help["text"]
    resident_help = await page.say(RESIDENT, "/help")
    assert "/queue" not in resident_help["text"]


async def test_buttons_edits_reply_contact_location_and_photo(page: Page) -> None:
    emu = page.sandbox.emu
    assert emu is not None
    welcome = await page.say(RESIDENT, "/start")
    assert "۷۲ ساعت" in welcome["text"]
    chat = await page.get(f"/api/chat?key={RESIDENT}")
    labels = [b["text"] for row in chat["keyboard"]["keyboard"] for b in row]
    assert "📝 درخواست جدید" in labels
    menu = await page.say(RESIDENT, "/language", contains="زبان")
    english = next(b["callback_data"] for row in menu["reply_markup"]["inline_keyboard"]
                   for b in row if b["text"] == "English")
    await page.act(RESIDENT, action="press", message_id=menu["message_id"], data=english)
    await emu.wait_for_message(7001, lambda m: m["text"] == "Main menu:", timeout=10)
    edited = next(m for m in emu.chat(7001) if m["message_id"] == menu["message_id"])
    assert edited["text"] == "Language set to English." and edited["edits"] == 1
    await page.post("/api/act", {"key": RESIDENT, "action": "press",
                                 "message_id": menu["message_id"], "data": "lang:set:xx"}, 400)

    answer = await page.say(RESIDENT, "hello", reply_to=welcome["message_id"])
    mine = [m for m in emu.chat(7001) if not m["from_bot"]][-1]
    assert mine["reply_to_message"]["message_id"] == welcome["message_id"]
    assert answer["from_bot"]
    await page.act(RESIDENT, action="contact")
    await page.act(RESIDENT, action="location")
    user_messages = [m for m in emu.chat(7001) if not m["from_bot"]]
    assert user_messages[-2]["contact"]["phone_number"] == seed.SAMPLE_PHONE
    assert user_messages[-2]["contact"]["user_id"] == 7001
    assert user_messages[-1]["location"]["latitude"] == pytest.approx(35.5642)

    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (4).to_bytes(4, "big") * 2 + b"rest"
    form = aiohttp.FormData()
    form.add_field("key", RESIDENT)
    form.add_field("caption", "چاله")
    form.add_field("file", png, filename="hole.png", content_type="image/png")
    response = await page.client.post("/api/photo", data=form, headers=HEADERS)
    assert response.status == 200, await response.text()
    sent = (await response.json())["message"]
    assert sent["caption"] == "چاله"
    picture = await page.client.get(f"/api/file/{sent['photo'][0]['file_id']}")
    assert picture.status == 200 and picture.content_type == "image/jpeg"
    assert await picture.read() == png
    # Anything that is not an image downloads instead of rendering on the page's origin.
    doc = emu.send_document(7001, b"<script>x</script>", filename="a.html",
                            mime_type="text/html")
    assert doc.message is not None
    download = await page.client.get(f"/api/file/{doc.message['document']['file_id']}")
    assert download.content_type == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert (await page.client.get("/api/file/nope")).status == 404


async def read_events(response: aiohttp.ClientResponse, predicate: Any,
                      timeout: float = 10) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            line = (await response.content.readline()).decode()
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if predicate(event):
                    return event  # type: ignore[no-any-return]


async def test_live_events_deliver_a_new_bot_message(page: Page) -> None:
    stream = await page.client.get("/api/events")
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert (await stream.content.readline()).startswith(b"retry:")
    await page.act(RESIDENT, action="text", text="/start")
    event = await read_events(stream, lambda e: e["type"] == "message"
                              and e["chat_id"] == 7001 and e["message"]["from_bot"])
    assert "۷۲ ساعت" in event["message"]["text"]
    keyboard = await read_events(stream, lambda e: e["type"] == "keyboard")
    assert keyboard["chat_id"] == 7001
    stream.close()


async def test_clock_panel_moves_time_and_runs_the_real_sla_sweep(page: Page) -> None:
    sandbox = page.sandbox
    assert sandbox.app is not None and sandbox.emu is not None
    deps = deps_of(sandbox.app)
    hook_times: list[timedelta] = []

    async def hook(box: Sandbox) -> None:
        hook_times.append(box.clock.offset)

    sandbox.after_clock_change.append(hook)
    async with deps.db.read() as conn:
        hood = await places.neighbourhood_by_code(conn, seed.SAMPLE_NEIGHBOURHOOD)
        housing = await places.category_by_code(conn, "housing")   # -> Welfare
    assert hood and housing
    ticket, _ = await file_ticket(deps, Draft(resident_id=seed.RESIDENT_FIRST, kind=Kind.NEED,
                                              neighbourhood_id=hood.id,
                                              category_id=housing.id, text="سقف چکه می‌کند"),
                                  idem_key="sandbox-clock")
    deps.outbox.kick()
    before = (await page.get("/api/clock"))["clock"]
    assert before["offset_hours"] == 0
    assert before["fa"] == format_datetime(sandbox.clock.now(), "fa", "Asia/Tehran")

    stream = await page.client.get("/api/events")
    after = (await page.post("/api/clock", {"hours": 24}))["clock"]
    assert after["offset_hours"] == 24
    assert after["fa"] != before["fa"] and re.search("[۰-۹]", after["fa"])
    after = (await page.post("/api/clock", {"hours": 24}))["clock"]   # 24 h left: reminder
    assert hook_times == [timedelta(hours=24), timedelta(hours=48)]
    staff = seed.STAFF["welfare"]
    event = await read_events(stream, lambda e: e["type"] == "message"
                              and e["chat_id"] == staff
                              and e["message"]["text"].startswith("⏰"))
    assert ticket.code in event["message"]["text"]
    assert event["message"]["date"] >= int(deps.clock.now().timestamp()) - 5

    await page.post("/api/clock", {"hours": 72})                       # deadline passed
    resident = await read_events(stream, lambda e: e["type"] == "message"
                                 and e["chat_id"] == seed.RESIDENT_FIRST
                                 and ticket.code in e["message"]["text"])
    assert resident["message"]["text"]
    stream.close()
    assert sandbox.clock.offset == timedelta(hours=120)
    await page.post("/api/clock", {"hours": 5}, 400)
    await page.post("/api/clock", {"hours": "24"}, 400)


async def test_reset_recreates_the_database_and_the_cast(page: Page) -> None:
    sandbox = page.sandbox
    await page.say(RESIDENT, "/start")
    added = (await page.post("/api/residents", {}))["person"]
    assert added["key"] == "resident-7002" and added["name"] == "علی"
    await page.say("resident-7002", "/start")
    await page.post("/api/clock", {"hours": 6})
    old_app = sandbox.app

    stream = await page.client.get("/api/events")
    state = await page.post("/api/reset", {})
    await read_events(stream, lambda e: e["type"] == "reset")     # open pages reload
    stream.close()
    assert sandbox.app is not old_app
    assert [p["key"] for p in state["people"]][:2] == [RESIDENT, "mayor"]
    assert "resident-7002" not in [p["key"] for p in state["people"]]
    assert state["clock"]["offset_hours"] == 0
    assert sandbox.app is not None and sandbox.emu is not None
    async with deps_of(sandbox.app).db.read() as conn:
        assert await updates.max_claimed(conn) == 0             # a new database
        assert await fetch_value(conn, "SELECT count(*) FROM people WHERE id = 7002") == 0
        assert await fetch_value(conn, "SELECT count(*) FROM roles") == 7
    assert sandbox.emu.chat(7001) == []
    welcome = await page.say(RESIDENT, "/start")                # the new bot answers
    assert "۷۲ ساعت" in welcome["text"]


async def test_restart_on_an_existing_database_keeps_answering(tmp_path: Path) -> None:
    """The database drops update ids it has seen; a new emulator must number above them."""
    settings = sandbox_settings(tmp_path)
    first = Sandbox(settings, poll_timeout=1)
    await first.start()
    assert first.emu is not None
    for _ in range(3):
        sent = first.emu.send_text(7001, "/start")
        await first.emu.wait_for_message(7001, after=sent.message["message_id"] if sent.message
                                         else 0, timeout=10)
    await first.add_resident()
    await first.stop()

    second = Sandbox(settings, poll_timeout=1)
    await second.start()
    try:
        assert second.emu is not None
        assert [p.key for p in second.people if p.kind == "resident"] == [
            RESIDENT, "resident-7002"]
        sent = second.emu.send_text(7001, "/start")
        assert sent.update_id == 4
        reply = await second.emu.wait_for_message(7001, timeout=10)
        assert "۷۲ ساعت" in reply["text"]
    finally:
        await second.stop()


def test_python_m_bot_without_a_token_serves_the_page(tmp_path: Path) -> None:
    """The README's first command: no BOT_TOKEN -> the sandbox, printing its URL."""
    env = {**os.environ, "BOT_TOKEN": "", "SANDBOX_PORT": "0",
           "SANDBOX_DATABASE_PATH": str(tmp_path / "sb.sqlite3"), "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-m", "bot"], cwd=tmp_path, env={
        **env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line + (process.stderr.read() if process.stderr else "")

        async def fetch() -> str:
            async with aiohttp.ClientSession() as session, session.get(match.group(0)) as resp:
                assert resp.status == 200
                return await resp.text()

        assert 'dir="rtl"' in asyncio.run(fetch())
        assert (tmp_path / "sb.sqlite3").exists()
        assert not (tmp_path / "mahalleyar.sqlite3").exists()   # production data untouched
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=15)
    assert code == 0


async def test_sandbox_admin_replaces_real_admins_from_the_environment(tmp_path: Path) -> None:
    sandbox = Sandbox(sandbox_settings(tmp_path, admin_ids=[42], admin_chat_id=-100999),
                      poll_timeout=1)
    await sandbox.start()
    try:
        assert sandbox.app is not None
        settings = deps_of(sandbox.app).settings
        assert settings.admin_ids == [seed.ADMIN] and settings.admin_chat_id == seed.ADMIN
        assert settings.database_path == tmp_path / "sandbox.sqlite3"
        assert settings.bot_api_base_url.startswith("http://127.0.0.1:")
    finally:
        await sandbox.stop()


async def test_staff_and_supervisor_see_the_stats_chart(page: Page) -> None:
    sandbox = page.sandbox
    assert sandbox.app is not None and sandbox.emu is not None
    deps = deps_of(sandbox.app)
    async with deps.db.read() as conn:
        hood = await places.neighbourhood_by_code(conn, seed.SAMPLE_NEIGHBOURHOOD)
        housing = await places.category_by_code(conn, "housing")   # -> Welfare
    assert hood and housing
    await file_ticket(deps, Draft(resident_id=seed.RESIDENT_FIRST, kind=Kind.NEED,
                                  neighbourhood_id=hood.id, category_id=housing.id,
                                  text="سقف چکه می‌کند"), idem_key="sandbox-stats")
    for key in ("supervisor", "staff-welfare"):
        chat_id = sandbox.person(key).chat_id
        before = max((m["message_id"] for m in sandbox.emu.chat(chat_id)), default=0)
        await page.act(key, action="text", text="/stats")
        photo = await sandbox.emu.wait_for_message(chat_id, lambda m: bool(m.get("photo")),
                                                   after=before, timeout=30)
        chat = await page.get(f"/api/chat?key={key}")
        shown = next(m for m in chat["messages"] if m["message_id"] == photo["message_id"])
        assert shown["photo"] and "هفته" in shown["caption"]
        picture = await page.client.get(f"/api/file/{photo['photo'][-1]['file_id']}")
        assert picture.status == 200 and picture.content_type.startswith("image/")
        assert (await picture.read()).startswith(b"\x89PNG")


async def test_clock_panel_office_time_and_next_working_morning(page: Page) -> None:
    """The panel says whether it is office time (or which holiday) and jumps to the next
    working day's opening, which is never a Friday or a holiday."""
    sandbox = page.sandbox
    state = (await page.get("/api/clock"))["clock"]
    assert isinstance(state["office_open"], bool) and state["weekday_fa"]
    moved = (await page.post("/api/clock", {"to": "morning"}))["clock"]
    now = sandbox.clock.now()
    calendar = sandbox.calendar()
    local = now.astimezone(calendar.tz)
    assert moved["office_open"] is True and moved["holiday_fa"] == ""
    assert (local.hour, local.minute) == (8, 0) and local.weekday() != 4
    assert calendar.holiday(local.date()) is None
    assert moved["weekday_fa"] in ("شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه",
                                   "پنجشنبه")
    await page.post("/api/clock", {"to": "evening"}, 400)
