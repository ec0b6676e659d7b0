"""`python -m bot` without a token: the emulator and the real bot in one process."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from bot.app import SANDBOX_TOKEN, build_application, start_app, stop_app
from bot.config import Settings
from bot.sandbox.emulator import Emulator


async def run_sandbox(settings: Settings) -> int:
    emulator = Emulator(token=SANDBOX_TOKEN)
    await emulator.start(host="127.0.0.1", port=0)
    sandbox_settings = settings.model_copy(
        update={
            "bot_api_base_url": emulator.base_url,
            "bot_api_base_file_url": emulator.base_file_url,
            "database_path": settings.sandbox_database_path,
        }
    )
    app = build_application(sandbox_settings, token=SANDBOX_TOKEN)
    await start_app(app, poll_timeout=10)
    print(
        f"Mahalleyar sandbox is running: Bot API emulator at {emulator.base_url}"
        f"<token>/ (token {SANDBOX_TOKEN}). Press Ctrl+C to stop.",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await stop_app(app)
    await emulator.stop()
    return 0
