"""`python -m bot` with a token and a Bot API URL: the real entry point, against the emulator
standing in for any Bot-API-compatible server (Telegram, Bale)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.sandbox.emulator import Emulator, EmuUser
from tests.harness import Harness, readable

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "424242:REAL-MODE"


async def test_start_gets_persian_welcome_with_keyboard(tmp_path: Path) -> None:
    emu = Emulator(token=TOKEN)
    await emu.start()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("BOT_", "ADMIN"))}
    env.update(BOT_TOKEN=TOKEN, BOT_API_BASE_URL=emu.base_url,
               DATABASE_PATH=str(tmp_path / "real.sqlite3"), PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        emu.add_user(EmuUser(id=9001, first_name="Reza", language_code="fa"))
        emu.send_text(9001, "/start")
        reply = await emu.wait_for_message(9001, timeout=20.0)
        assert "سلام Reza" in readable(reply)["text"]  # bidi marks are invisible
        assert emu.current_keyboard(9001) is not None
    finally:
        proc.terminate()
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
        await emu.stop()
    log = stderr.decode()
    assert TOKEN not in log            # the token never reaches the logs
    assert "/start" not in log         # nor what users write


async def test_error_handler_apologises_in_persian_and_reports(h: Harness) -> None:
    h.settings.admin_chat_id = -100777
    h.emu.add_group(-100777, "admins")

    async def boom(update: Update, context: object) -> None:
        raise RuntimeError("database exploded")

    h.app.add_handler(MessageHandler(filters.Regex("^boom$"), boom), group=-1)
    h.user(9002)
    replies = await h.send(9002, "boom")
    assert any("مشکلی" in m["text"] for m in replies)
    report = h.last(-100777)
    assert "database exploded" in report["text"]
