"""The sandbox itself: the local Bot API emulator, the real bot and an OffsetClock.

The bot runs unchanged: only its Bot API base URL points at the local emulator and its clock
is an OffsetClock the page can move forward. `bot.sandbox.web` (the page) and
`bot.sandbox.run` (the entry point) both import this module; it imports neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot import sla
from bot.app import SANDBOX_TOKEN, build_application, deps_of, start_app, stop_app, sync_role_menus
from bot.clock import OffsetClock
from bot.config import Settings
from bot.domain.workcal import WorkCalendar
from bot.sandbox import seed
from bot.sandbox.emulator import Emulator, EmuUser, JsonDict
from bot.sandbox.seed import SandboxPerson
from storage import people, updates

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
ClockHook = Callable[["Sandbox"], Awaitable[None]]



class Sandbox:
    """Owns the emulator, the bot and the clock; the web page drives it."""

    def __init__(self, settings: Settings, clock: OffsetClock | None = None,
                 poll_timeout: int = 10) -> None:
        self.base_settings = settings
        self.clock = clock or OffsetClock()
        self.poll_timeout = poll_timeout
        self.emu: Emulator | None = None
        self.app: App | None = None
        self.people: list[SandboxPerson] = []
        # Called after every clock change (in order), before the bot's own SLA sweep.
        self.after_clock_change: list[ClockHook] = []
        self._subscribers: list[asyncio.Queue[JsonDict | None]] = []
        self._pump: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.ready = asyncio.Event()

    # ------------------------------------------------------------------ settings and lifecycle

    @property
    def db_path(self) -> Path:
        return self.base_settings.sandbox_database_path

    def _bot_settings(self, emu: Emulator) -> Settings:
        """Only the sandbox's own people exist in the emulator, so real admin ids or chats
        from a .env would only produce "chat not found": the sandbox admin replaces them."""
        return self.base_settings.model_copy(update={
            "bot_api_base_url": emu.base_url,
            "bot_api_base_file_url": emu.base_file_url,
            "database_path": self.db_path,
            "database_url": None,       # the sandbox is its own SQLite file, always
            "admin_ids": [seed.ADMIN],
            "admin_chat_id": seed.ADMIN,
        })

    async def start(self) -> None:
        async with self._lock:
            await self._start()

    async def _start(self) -> None:
        emu = Emulator(token=SANDBOX_TOKEN, clock=lambda: self.clock.now().timestamp())
        await emu.start(host="127.0.0.1", port=0)
        app = build_application(self._bot_settings(emu), clock=self.clock, token=SANDBOX_TOKEN)
        await start_app(app, poll_timeout=self.poll_timeout)
        deps = deps_of(app)
        async with deps.db.tx() as conn:
            cast = await seed.seed(conn, self.clock.now())
            seen = await updates.max_claimed(conn)
        # The database drops update ids it has processed; a fresh emulator starts at 1.
        emu.set_next_update_id(seen + 1)
        for person in cast:
            if person.kind == "group":
                emu.add_group(person.chat_id, person.name)
            else:
                emu.add_user(EmuUser(id=person.user_id, first_name=person.name,
                                     language_code="fa"))
        # The cast got its roles after the bot started: their role menus, without /start.
        await sync_role_menus(app)
        self.emu, self.app, self.people = emu, app, cast
        self._pump = asyncio.create_task(self._forward(emu.subscribe()), name="sandbox-events")
        self.ready.set()

    async def stop(self) -> None:
        async with self._lock:
            await self._stop()
        for queue in self._subscribers:
            queue.put_nowait(None)   # ends live event streams

    async def _stop(self) -> None:
        self.ready.clear()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self.app is not None:
            await stop_app(self.app)
            self.app = None
        if self.emu is not None:
            await self.emu.stop()
            self.emu = None

    async def reset(self) -> None:
        """Stop the bot, delete the sandbox database, start again with a fresh cast."""
        async with self._lock:
            await self._stop()
            await asyncio.to_thread(delete_database, self.db_path)
            self.clock.offset = timedelta()
            await self._start()
        self._broadcast({"type": "reset"})

    # ------------------------------------------------------------------ people

    def person(self, key: str) -> SandboxPerson:
        for person in self.people:
            if person.key == key:
                return person
        raise KeyError(key)

    async def add_resident(self) -> SandboxPerson:
        async with self._lock:
            emu, app = self._running()
            used = {p.user_id for p in self.people if p.kind == "resident"}
            user_id = next((i for i in range(seed.RESIDENT_FIRST, seed.RESIDENT_LAST + 1)
                            if i not in used), None)
            if user_id is None:
                raise ValueError("no more sandbox residents")
            person = seed.resident(user_id)
            async with deps_of(app).db.tx() as conn:
                await people.ensure_person(conn, user_id, self.clock.now(), person.name)
            emu.add_user(EmuUser(id=user_id, first_name=person.name, language_code="fa"))
            last = max(i for i, p in enumerate(self.people) if p.kind == "resident")
            self.people.insert(last + 1, person)
        self._broadcast({"type": "people"})
        return person

    def _running(self) -> tuple[Emulator, App]:
        if self.emu is None or self.app is None:
            raise RuntimeError("the sandbox is restarting")
        return self.emu, self.app

    # ------------------------------------------------------------------ clock

    def calendar(self) -> WorkCalendar:
        """The running bot's working calendar (office hours, holidays)."""
        return deps_of(self._running()[1]).calendar

    async def to_next_working_morning(self) -> None:
        """«Next working morning»: the clock jumps to the next working day's opening."""
        now = self.clock.now()
        await self.advance(self.calendar().next_working_morning(now) - now)

    async def advance(self, delta: timedelta) -> None:
        """Move the bot's time forward, then let time-driven work happen at once."""
        async with self._lock:
            _, app = self._running()
            before = self.clock.now()
            self.clock.advance(delta)
            for hook in list(self.after_clock_change):
                await hook(self)
            # The same sweep the periodic job runs: reminders and escalations show at once.
            await sla.sweep(deps_of(app))
            # The daily digest when its local time was passed (it skips Fridays and
            # holidays itself); messages held for quiet hours go out when the outbox is kicked.
            if digest_passed(before, self.clock.now(), self.base_settings):
                await sla.run_digest(deps_of(app))
            deps_of(app).outbox.kick()
        self._broadcast({"type": "clock"})

    # ------------------------------------------------------------------ live events

    def subscribe(self) -> asyncio.Queue[JsonDict | None]:
        """Emulator events plus sandbox ones ("reset", "people", "clock"); None = closed."""
        queue: asyncio.Queue[JsonDict | None] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JsonDict | None]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    def _broadcast(self, event: JsonDict) -> None:
        for queue in self._subscribers:
            queue.put_nowait(event)

    async def _forward(self, source: asyncio.Queue[JsonDict]) -> None:
        while True:
            self._broadcast(await source.get())


def digest_passed(before: datetime, after: datetime, settings: Settings) -> bool:
    """Whether the clock moved over a DIGEST_TIME (local), e.g. by the panel's +24 h."""
    tz = settings.tz
    hour, minute = (int(x) for x in settings.digest_time.split(":"))
    day = before.astimezone(tz).date()
    while day <= after.astimezone(tz).date():
        moment = datetime.combine(day, time(hour, minute), tzinfo=tz)
        if before < moment <= after:
            return True
        day += timedelta(days=1)
    return False


def delete_database(path: Path) -> None:
    """The SQLite file and its WAL/shared-memory/journal companions."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
