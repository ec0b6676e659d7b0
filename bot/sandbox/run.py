"""`python -m bot` without a token: the emulator, the real bot and the sandbox web page.

This module only wires `bot.sandbox.core.Sandbox` to `bot.sandbox.web` and waits for
Ctrl+C; neither of those imports it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from bot.config import Settings
from bot.sandbox.core import Sandbox, delete_database
from bot.sandbox.web import start_web

__all__ = ["Sandbox", "delete_database", "run_sandbox"]


async def run_sandbox(settings: Settings) -> int:
    sandbox = Sandbox(settings)
    await sandbox.start()
    runner, url = await start_web(sandbox, settings.sandbox_host, settings.sandbox_port)
    print(f"Mahalleyar sandbox: open {url} in your browser (no Telegram token needed).\n"
          f"Database: {sandbox.db_path}. Press Ctrl+C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await sandbox.stop()
    await runner.cleanup()
    return 0
