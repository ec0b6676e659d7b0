"""Outbox throughput against the emulator with Telegram's limits enforced.

Run: python -m bench.bench_outbox [--messages 1000 --chats 200 --groups 10]
                                                [--notices]
`--notices` queues typed notices instead of texts: each is rendered when it is sent (the
recipient's language read then). Prints elapsed time, the minimum Telegram's limits allow,
their ratio (target <= 1.05), lost and duplicated counts (target 0 and 0); no asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.clock import SystemClock
from bot.domain.notices import Notice, NoticeKind
from bot.i18n import translator
from bot.outbox import Outbox
from bot.sandbox.emulator import Emulator, EmuUser
from bot.ui.notices import render
from storage.db import Database
from storage.outbox import pending_count

TOKEN = "123456:BENCH"


def minimum_seconds(per_chat: Counter[int]) -> float:
    """Lower bound from the limits: 25/s overall, 1/s per private chat, 20/min per group."""
    total = sum(per_chat.values())
    bound = (total - 1) / 25
    for chat, n in per_chat.items():
        if chat > 0:
            bound = max(bound, (n - 1) * 1.0)
        else:
            bound = max(bound, ((n - 1) // 20) * 60.0)
    return bound


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--notices", action="store_true",
                        help="typed notices rendered at send time instead of ready texts")
    args = parser.parse_args()
    emu = Emulator(token=TOKEN, enforce_limits=True)
    await emu.start()
    chats = [1000 + i for i in range(args.chats - args.groups)]
    for uid in chats:
        emu.add_user(EmuUser(id=uid, first_name="u"))
    for g in range(args.groups):
        emu.add_group(chat_id=-1000000 - g, title="g")
        chats.append(-1000000 - g)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(Path(folder) / "bench.sqlite3")
        await db.open()
        clock = SystemClock()
        outbox = Outbox(db, clock)
        expected: dict[int, list[str]] = {}
        async with db.tx() as conn:
            for i in range(args.messages):
                chat = chats[i % len(chats)]
                if args.notices:
                    notice = Notice(NoticeKind.WITHDRAWN, chat, f"b:{i}", "bench", None,
                                    {"code": f"n{i}"})
                    text = render(notice.notice, translator("fa"), None, notice.args, {}).text
                    await outbox.notify(conn, notice)
                else:
                    text = f"n{i}"
                    await outbox.enqueue(conn, chat_id=chat, key=f"b:{i}", kind="bench",
                                         text=text)
                expected.setdefault(chat, []).append(text)
        bot = Bot(TOKEN, base_url=emu.base_url,
                  request=HTTPXRequest(connection_pool_size=32))
        await bot.initialize()
        started = time.monotonic()
        outbox.start(bot)
        while True:
            async with db.read() as conn:
                if await pending_count(conn) == 0:
                    break
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - started
        await outbox.stop()
        await bot.shutdown()
        await db.close()
    got = {chat: [m["text"] for m in emu.bot_messages(chat)] for chat in expected}
    lost = sum(len(set(expected[c]) - set(got[c])) for c in expected)
    duplicated = sum(len(got[c]) - len(set(got[c])) for c in expected)
    out_of_order = sum(list(dict.fromkeys(got[c])) != expected[c] for c in expected)
    refused = sum(1 for m, p in emu.requests if m == "sendMessage") - sum(map(len, got.values()))
    minimum = minimum_seconds(Counter({c: len(v) for c, v in expected.items()}))
    await emu.stop()
    print(f"outbox: {args.messages} {'notices' if args.notices else 'texts'} to "
          f"{len(expected)} chats "
          f"({args.groups} groups), emulator limits enforced")
    print(f"  elapsed        {elapsed:.2f} s")
    print(f"  minimum        {minimum:.2f} s (limits: 25/s overall, 1/s private, 20/min group)")
    print(f"  ratio          {elapsed / minimum:.3f}  (target <= 1.05)")
    print(f"  lost           {lost}")
    print(f"  duplicated     {duplicated}")
    print(f"  out of order   {out_of_order} chats")
    print(f"  429 refusals   {refused}")


if __name__ == "__main__":
    asyncio.run(main())
