"""Issue 14 through the emulator: bounded input, double taps, edits, groups, bindings, scope,
file modes, and the sender-side rules (UTF-16 limits, not-modified, optional calls)."""

from __future__ import annotations

import logging
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.domain import delivery, limits
from bot.telegram_errors import Verdict, classify
from storage import outbox as outbox_repo
from storage.base import fetch_all, fetch_value
from storage.db import Database
from tests.harness import Harness, start_harness, stop_harness
from tests.resident_steps import file_via_bot, onboard
from tests.staff_helpers import (
    OTHER_AREA,
    RESIDENT,
    STAFF,
    STAFF2,
    file,
    reload,
    team,
    texts,
)

HUGE = "99999999999999999999"


# ---------------------------------------------------------------------------- pure rules

def test_classifier_verdicts() -> None:
    assert classify(BadRequest("Message is not modified: specified new message content and "
                               "reply markup are exactly the same")).verdict is Verdict.DONE
    found = classify(RetryAfter(7))
    assert found.verdict is Verdict.RETRY_AFTER and found.retry_after == 7
    assert not found.counts_as_attempt
    assert classify(NetworkError("Internal Server Error (500)")).verdict is Verdict.TRANSIENT
    assert classify(NetworkError("Bad Gateway")).verdict is Verdict.TRANSIENT
    assert classify(TimedOut()).verdict is Verdict.TRANSIENT
    assert classify(Forbidden("bot was blocked by the user")).verdict is Verdict.UNREACHABLE
    assert classify(BadRequest("Chat not found")).verdict is Verdict.REJECTED
    assert classify(NetworkError("Request Entity Too Large (413)")).verdict is Verdict.REJECTED
    dropped = classify(BadRequest("Bad Request: unknown parameter message_effect_id"),
                       optional_parameters=frozenset({"message_effect_id"}))
    assert dropped.verdict is Verdict.UNKNOWN_PARAMETER
    assert dropped.parameter == "message_effect_id"
    assert classify(BadRequest("unknown parameter chat_id")).verdict is Verdict.REJECTED
    assert classify(BadRequest("Method not found")).verdict is Verdict.UNKNOWN_METHOD


def test_utf16_limits_and_bounded_numbers() -> None:
    assert limits.utf16_len("a😀") == 3
    text = "😀" * 3000                                 # 6000 UTF-16 units
    parts = limits.split(text)
    assert all(limits.utf16_len(p) <= 4096 for p in parts) and "".join(parts) == text
    cut = limits.trim("😀" * 600, limits.CAPTION_LIMIT)
    assert limits.utf16_len(cut) <= 1024 and cut.endswith("…")
    assert limits.quote("x" * 4096) == "x" * 59 + "…"
    assert limits.parse_int("#۱۲") == 12
    assert limits.parse_int(HUGE) is None and limits.parse_int("-5") is None
    assert limits.parse_int(str(2**63 - 1)) == 2**63 - 1


def test_lifetimes_per_kind() -> None:
    from datetime import UTC, datetime, timedelta
    now = datetime(2026, 11, 25, 8, tzinfo=UTC)
    assert delivery.expires_at("status", {}, now) == now + timedelta(days=7)
    assert delivery.expires_at("receipt", {}, now) == now + timedelta(days=7)
    assert delivery.expires_at("digest", {}, now) == now + timedelta(days=1)
    due = now + timedelta(hours=5)
    assert delivery.expires_at("sla_reminder", {"args": {"due": due.isoformat()}}, now) == due
    assert delivery.priority("receipt") < delivery.priority("status") < \
        delivery.priority("announce")
    assert delivery.backoff(20, 1.0, 60.0) == 60.0


# ---------------------------------------------------------------------------- bad input

async def test_huge_numbers_in_commands_and_buttons(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    for data in (f"st:close:{HUGE}", f"ticket:take:{HUGE}", f"my:open:{HUGE}",
                 f"rate:s:{HUGE}:5", f"st:q:all:{HUGE}", "st:take:-" + HUGE):
        announcement = h.last(STAFF)
        await h.press_data(STAFF, announcement["message_id"], data, force=True)
    reply = texts(await h.send(STAFF, f"/reply {ticket.code} #{HUGE}"))
    assert "پاسخ" in reply or ticket.code in reply
    h.user(9001, "مدیر")
    assert "Traceback" not in reply
    for text in (f"/show {HUGE}", f"/take {HUGE}", f"/stats {HUGE}-1-1", f"/status {HUGE}"):
        out = texts(await h.send(STAFF, text))
        assert "مشکلی" not in out, text            # never the generic apology


async def test_revoke_huge_number(tmp_path: Path, database_url: str) -> None:
    h = await start_harness(tmp_path, admin_ids=[9001], database_url=database_url)
    try:
        h.user(9001, "مدیر")
        out = texts(await h.send(9001, f"/revoke {HUGE}"))
        assert "/revoke" in out and "مشکلی" not in out
    finally:
        await stop_harness(h)


async def test_long_search_and_status_are_quoted_short(h: Harness) -> None:
    await team(h)
    long = "ب" * 4090
    out = await h.send(STAFF, f"/search {long}")
    assert out and all(limits.utf16_len(m["text"]) <= 200 for m in out)
    h.user(RESIDENT, "زهرا")
    out = await h.send(RESIDENT, "/status " + "😀" * 2000)
    assert out and all(limits.utf16_len(m["text"]) <= 400 for m in out)


async def test_sender_cuts_texts_in_utf16_units(h: Harness) -> None:
    h.user(RESIDENT, "زهرا")
    sent = await h.app.bot.send_message(RESIDENT, "😀" * 2100)        # 4200 units
    assert limits.utf16_len(sent.text or "") <= 4096


async def test_double_taps_are_success(h: Harness) -> None:
    kind_msg = await onboard(h, RESIDENT)
    again = await h.press_data(RESIDENT, kind_msg["message_id"], "consent:yes", force=True)
    assert "مشکلی" not in texts(again)
    h.emu.inject_fault("editMessageText", status=400,
                       description="Bad Request: message is not modified: specified new "
                                   "message content and reply markup are exactly the same")
    menu = h.last(RESIDENT)
    out = await h.press(RESIDENT, menu, "نیاز")
    assert "مشکلی" not in texts(out)
    again = await h.press_data(RESIDENT, menu["message_id"], "new:cancel", force=True)
    assert "مشکلی" not in texts(again)


async def test_optional_call_switched_off_once(h: Harness,
                                               caplog: pytest.LogCaptureFixture) -> None:
    h.emu.inject_fault("setMyCommands", status=404, count=None, description="Not Found")
    from telegram import BotCommand
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert await h.app.bot.set_my_commands([BotCommand("start", "x")])
    lines = [r for r in caplog.records if "switched off" in r.getMessage()]
    assert len(lines) == 1
    calls = [m for m, _ in h.emu.requests if m.lower() == "setmycommands"]
    assert len(calls) >= 1


async def test_unknown_parameter_is_dropped(h: Harness) -> None:
    h.user(RESIDENT, "زهرا")
    h.emu.inject_fault("sendMessage", status=400, count=1,
                       description="Bad Request: unknown parameter protect_content")
    sent = await h.app.bot.send_message(RESIDENT, "سلام", protect_content=True)
    assert sent.text == "سلام"
    last = [p for m, p in h.emu.requests if m == "sendMessage"][-1]
    assert "protect_content" not in last


# ---------------------------------------------------------------------------- edits, groups

async def test_edited_reply_is_not_run_again(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    await h.send(STAFF, f"/take {ticket.code}")
    sent = h.emu.send_text(STAFF, f"/reply {ticket.code} جواب اول")
    await h._processed(sent.update_id)
    await h.settle()
    before = len(h.messages(RESIDENT))
    assert sent.message is not None
    for text in ("جواب دوم", "جواب سوم"):
        edit = h.emu.edit_text(STAFF, sent.message["message_id"], f"/reply {ticket.code} {text}")
        await h._processed(edit.update_id)
    await h.settle()
    assert len(h.messages(RESIDENT)) == before              # no second answer
    told = [m for m in h.messages(STAFF) if "ویرایش" in m["text"]]
    assert len(told) == 1                                    # told once per message
    async with h.deps.db.read() as conn:     # the lock: the bot may be writing meanwhile
        events = await fetch_all(conn, "SELECT action FROM ticket_events WHERE ticket_id = ? "
                                 "AND action = 'reply'", (ticket.id,))
    assert len(events) == 1


async def test_resident_flows_only_in_private(h: Harness) -> None:
    group = -100600
    h.emu.add_group(group, "محله")
    h.user(RESIDENT, "زهرا")
    out = await h.send(RESIDENT, "/new", chat_id=group)
    assert len(out) == 1 and "خصوصی" in out[0]["text"]
    assert await h.send(RESIDENT, "📝 درخواست تازه", chat_id=group) == []
    assert await h.send(RESIDENT, "/start", chat_id=group) != []


async def test_updates_without_from_are_dropped(h: Harness) -> None:
    h.user(RESIDENT, "زهرا")
    chat = {"id": RESIDENT, "type": "private", "first_name": "x"}
    update_id = h.emu.push_update("message", {"message_id": 999, "date": 0, "chat": chat,
                                              "text": "/new"})
    await h._processed(update_id)
    update_id = h.emu.push_update("channel_post", {
        "message_id": 5, "date": 0, "text": "/start",
        "chat": {"id": -100900, "type": "channel", "title": "c"}})
    await h._processed(update_id)
    assert h.messages(RESIDENT) == []


# ---------------------------------------------------------------------------- scope

async def test_binding_ends_with_binders_role_and_roles_lists_it(tmp_path: Path,
                                                                 database_url: str) -> None:
    h = await start_harness(tmp_path, admin_ids=[9001], database_url=database_url)
    try:
        h.user(9001, "مدیر")
        await team(h)
        group = -100501
        h.emu.add_group(group, "تیم")
        await h.send(STAFF, "/bind", chat_id=group)
        roles = texts(await h.send(9001, "/roles"))
        assert str(group) in roles
        async with h.deps.db.read() as conn:
            role_id = await fetch_value(conn, "SELECT id FROM roles WHERE person_id = ?",
                                        (STAFF,))
        await h.send(9001, f"/revoke {role_id}")
        ticket = await file(h)
        assert all(ticket.code not in m["text"] for m in h.messages(group))
        assert str(group) not in texts(await h.send(9001, "/roles"))
    finally:
        await stop_harness(h)


async def test_group_member_needs_own_scope(h: Harness) -> None:
    await team(h)
    group = -100502
    h.emu.add_group(group, "بهزیستی ۱")
    await h.send(STAFF, "/bind", chat_id=group)             # welfare / ISL01
    ticket = await file(h)
    out = texts(await h.send(OTHER_AREA, f"/take {ticket.code}", chat_id=group))
    assert (await reload(h, ticket)).assignee_id is None, out   # welfare / ISL02: no
    await h.send(STAFF2, f"/take {ticket.code}", chat_id=group)
    assert (await reload(h, ticket)).assignee_id == STAFF2


# ---------------------------------------------------------------------------- files

async def test_database_files_are_private(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                          ) -> None:
    """SQLite only, by nature: the modes of the database file and its -wal/-shm."""
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "new.sqlite3"
        db = Database(fresh)
        await db.open()
        async with db.tx() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS t(x)")
        for path in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        await db.close()
        loose = tmp_path / "old.sqlite3"
        loose.touch()
        os.chmod(loose, 0o644)
        with caplog.at_level(logging.WARNING):
            db = Database(loose)
            await db.open()
            await db.close()
        assert stat.S_IMODE(loose.stat().st_mode) == 0o600
        assert sum("tightened" in r.getMessage() for r in caplog.records) == 1
    finally:
        os.umask(old)


async def test_receipt_marked_sent_by_the_handler(h: Harness) -> None:
    h.user(RESIDENT, "زهرا")
    await onboard(h, RESIDENT)
    code = await file_via_bot(h, RESIDENT)
    async with h.deps.db.read() as conn:     # the lock: the bot may be writing meanwhile
        rows = await fetch_all(conn, "SELECT status, sent_message_id FROM outbox "
                               "WHERE kind = 'receipt'")
    assert [r["status"] for r in rows] == ["sent"] and rows[0]["sent_message_id"]
    h.clock.advance(timedelta(seconds=60))
    await h.settle()
    assert sum(code in m["text"] for m in h.messages(RESIDENT)) == 1
    async with h.deps.db.read() as conn:
        assert await outbox_repo.pending_count(conn) == 0


async def test_blocked_direct_reply_marks_unreachable(h: Harness,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from storage import people
    h.user(RESIDENT, "زهرا")
    h.emu.block(RESIDENT)
    with caplog.at_level(logging.INFO):
        await h.send(RESIDENT, "/start")
    async with h.deps.db.read() as conn:
        assert await people.is_unreachable(conn, RESIDENT)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_fit_lengths_per_parameter() -> None:
    from bot.reliable_bot import fit_lengths
    data = {"text": "<b>" + "ب" * 5000 + "</b>", "parse_mode": "HTML"}
    fit_lengths(data)
    assert "parse_mode" not in data and "<b>" not in data["text"]
    assert limits.utf16_len(data["text"]) <= 4096
    popup = {"text": "x" * 500}
    fit_lengths(popup, "answerCallbackQuery")
    assert len(popup["text"]) <= 200
    caption = {"caption": "😀" * 1000}
    fit_lengths(caption, "sendPhoto")
    assert limits.utf16_len(caption["caption"]) <= 1024


def test_every_resident_command_is_private_only() -> None:
    """A new resident command must be added to the guard too (it would run in groups)."""
    from bot.ui.commands import COMMANDS
    from handlers.guards import RESIDENT_COMMANDS
    shared = {"help", "cancel"}       # staff use them in groups as well
    assert {name for name, _ in COMMANDS} - shared == RESIDENT_COMMANDS
