"""Drives the real Application against the local Bot API emulator, as users would.

`await h.send(user, "/start")` puts an update into the emulator, waits until the bot has
fully processed it, and returns the bot's new messages in that chat.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.app import build_application, deps_of, start_app, stop_app
from bot.clock import FakeClock
from bot.config import Settings
from bot.deps import Deps
from bot.domain.text import LRM, RLM, unmarked_items
from bot.sandbox.emulator import Emulator, EmuUser
from bot.sender import Budgets
from storage.url import parse_database_url

TOKEN = "123456:TEST-TOKEN"
TEST_BUDGETS = Budgets.unlimited()   # the sender's own tests check the budgets (real seconds)
Msg = dict[str, Any]


class TrackingApplication(Application):  # type: ignore[type-arg]
    """Signals when each update is completely processed (all groups, error handler)."""

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        finally:
            if isinstance(update, Update):
                done: dict[int, asyncio.Event] = self.bot_data.setdefault("_done",
                                                                           defaultdict(asyncio.Event))
                done[update.update_id].set()


@dataclass
class Harness:
    emu: Emulator
    app: Application  # type: ignore[type-arg]
    clock: FakeClock
    settings: Settings
    db_path: Path

    @property
    def deps(self) -> Deps:
        return deps_of(self.app)

    def user(self, user_id: int, name: str = "کاربر", language_code: str | None = "fa",
             username: str | None = None) -> int:
        self.emu.add_user(EmuUser(id=user_id, first_name=name, language_code=language_code,
                                  username=username))
        return user_id

    async def _processed(self, update_id: int, timeout: float = 10.0) -> None:
        done = self.app.bot_data.setdefault("_done", defaultdict(asyncio.Event))
        await asyncio.wait_for(done[update_id].wait(), timeout)

    def _mark(self, chat_id: int) -> int:
        messages = self.emu.chat(chat_id)
        return max((m["message_id"] for m in messages), default=0)

    def _new_bot(self, chat_id: int, after: int) -> list[Msg]:
        return [readable(m) for m in self.emu.bot_messages(chat_id) if m["message_id"] > after]

    async def send(self, user_id: int, text: str, *, chat_id: int | None = None,
                   reply_to: int | None = None) -> list[Msg]:
        chat = chat_id if chat_id is not None else user_id
        before = self._mark(chat)
        sent = self.emu.send_text(user_id, text, chat_id=chat_id, reply_to=reply_to)
        await self._processed(sent.update_id)
        return self._new_bot(chat, before)

    async def do(self, user_id: int, action: str, *args: Any, chat_id: int | None = None,
                 **kwargs: Any) -> list[Msg]:
        """Any other emulator user action: `await h.do(u, "send_sticker")`."""
        chat = chat_id if chat_id is not None else user_id
        before = self._mark(chat)
        if chat_id is not None:
            kwargs["chat_id"] = chat_id
        sent = getattr(self.emu, action)(user_id, *args, **kwargs)
        await self._processed(sent.update_id)
        return self._new_bot(chat, before)

    async def press(self, user_id: int, message: Msg, label: str, *,
                    chat_id: int | None = None, exact: bool = False) -> list[Msg]:
        """Press the inline button whose text contains `label` (or equals it, if exact)."""
        data = button_data(message, label, exact=exact)
        chat = chat_id if chat_id is not None else message["chat"]["id"]
        before = self._mark(chat)
        sent = self.emu.press(user_id, message["message_id"], data, chat_id=chat_id)
        await self._processed(sent.update_id)
        return self._new_bot(chat, before)

    async def press_data(self, user_id: int, message_id: int, data: str, *,
                         chat_id: int | None = None, force: bool = False) -> list[Msg]:
        chat = chat_id if chat_id is not None else user_id
        before = self._mark(chat)
        sent = self.emu.press(user_id, message_id, data, chat_id=chat_id, force=force)
        await self._processed(sent.update_id)
        return self._new_bot(chat, before)

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the outbox has delivered everything that is due now."""
        outbox = self.deps.outbox
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            outbox.kick()
            await asyncio.wait_for(outbox.idle.wait(), timeout)
            async with self.deps.db.read() as conn:
                from storage.outbox import due

                if not await due(conn, self.clock.now(), 1):
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("outbox did not settle")

    def messages(self, chat_id: int) -> list[Msg]:
        return [readable(m) for m in self.emu.bot_messages(chat_id)]

    def keyboard(self, chat_id: int) -> list[str]:
        """Labels of the reply keyboard the user currently sees in that chat."""
        return keyboard_labels(self.emu.current_keyboard(chat_id))

    def last(self, chat_id: int) -> Msg:
        message = self.emu.last_bot_message(chat_id)
        assert message is not None, f"no bot message in chat {chat_id}"
        return readable(message)


def readable(message: Msg) -> Msg:
    """The message as a person reads it: the bidi marks the bot puts around Latin codes and
    commands (`bot.domain.text.bidi_text`) are invisible, so assertions ignore them; the
    text as sent stays under `raw_text` / `raw_caption` (checked by `bidi_problems`)."""
    out = dict(message)
    for key in ("text", "caption"):
        value = out.get(key)
        if isinstance(value, str):
            out["raw_" + key] = value
            out[key] = value.replace(LRM, "").replace(RLM, "")
    return out


_FORMATTING = {"bold", "italic", "code", "pre", "text_link", "underline", "strikethrough"}


def bidi_problems(h: Harness) -> list[str]:
    """Bot messages (in every chat) with a Latin code, command or phone number that is
    neither marked nor on a line of its own."""
    found = []
    for chat_id in h.emu.chat_ids():
        for message in h.emu.bot_messages(chat_id):
            if (chat_id, message["message_id"]) in h.emu.copies:
                continue   # a copy carries the sender's own words, unchanged
            for key in ("text", "caption"):
                value = message.get(key)
                formatted = any(e.get("type") in _FORMATTING for e in message.get("entities", []))
                if isinstance(value, str) and not formatted:
                    found += [f"{chat_id}: {p}" for p in unmarked_items(value)]
    return found


def buttons(message: Msg) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", ""))
            for row in markup.get("inline_keyboard", []) for b in row]


def button_data(message: Msg, label: str, *, exact: bool = False) -> str:
    for text, data in buttons(message):
        if (text == label) if exact else (label in text):
            return data
    raise AssertionError(f"no button {label!r} in {buttons(message)}")


def keyboard_labels(markup: Msg | None) -> list[str]:
    """Labels of a reply keyboard (`h.emu.current_keyboard(chat)`); Telegram does not echo
    reply keyboards on the Message itself."""
    return [b["text"] if isinstance(b, dict) else b
            for row in (markup or {}).get("keyboard", []) for b in row]


async def start_harness(tmp_path: Path, **overrides: Any) -> Harness:
    db_path = overrides.pop("database_path", tmp_path / "test.sqlite3")
    # A PostgreSQL URL (tests/conftest.py `database_url`) instead of the SQLite file.
    if (database_url := overrides.pop("database_url", None)) is not None:
        if database_url.startswith("sqlite:"):
            db_path = Path(parse_database_url(database_url).path)
        else:
            overrides["database_url"] = database_url
    # Tests that are not about quiet hours see every message at once (tests/test_calendar_e2e
    # turns them on).
    overrides.setdefault("quiet_hours", "off")
    clock = overrides.pop("clock", None) or FakeClock()
    emu = Emulator(token=TOKEN, clock=lambda: clock.now().timestamp(),
                   enforce_limits=overrides.pop("enforce_limits", False),
                   profile=overrides.pop("emulator_profile", "telegram"))
    await emu.start(host="127.0.0.1", port=0)
    settings = Settings(_env_file=None, bot_token=TOKEN,  # type: ignore[call-arg]
                        bot_api_base_url=emu.base_url, bot_api_base_file_url=emu.base_file_url,
                        database_path=db_path, **overrides)
    app = build_application(settings, clock=clock, application_class=TrackingApplication,
                            budgets=TEST_BUDGETS)
    await start_app(app, poll_timeout=1)
    return Harness(emu=emu, app=app, clock=clock, settings=settings, db_path=db_path)


async def stop_harness(h: Harness) -> None:
    await stop_app(h.app)
    await h.emu.stop()
    # Every text the bot sent in the test keeps its Latin codes and commands in order.
    problems = bidi_problems(h)
    assert not problems, f"unmarked Latin items in sent texts: {problems[:5]}"


async def restart(h: Harness) -> Harness:
    """Stop the bot (flushing persistence) and start a new one on the same database."""
    await stop_app(h.app)
    app = build_application(h.settings, clock=h.clock, application_class=TrackingApplication,
                            budgets=TEST_BUDGETS)
    await start_app(app, poll_timeout=1)
    h.app = app
    return h
