"""The sandbox web page: a Telegram-like chat in the browser, driving the emulator's users.

A static page (bot/sandbox/static, no build step, nothing from a CDN) plus JSON endpoints and
a Server-Sent Events stream of live emulator events. Local by design: it binds to loopback
unless configured otherwise, refuses foreign Host headers (DNS rebinding) and state-changing
requests without the page's own header (cross-site forms), and the page renders every text
with textContent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
from collections.abc import Awaitable, Callable
from datetime import timedelta
from importlib import resources

from aiohttp import web

from bot.sandbox.core import Sandbox
from bot.sandbox.emulator import Emulator, JsonDict
from bot.sandbox.seed import SAMPLE_LOCATION, SAMPLE_PHONE, SandboxPerson
from bot.ui.jalali import format_datetime, format_weekday

log = logging.getLogger(__name__)

SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
ALLOWED_HOSTS = web.AppKey("allowed_hosts", frozenset[str])
STATIC_FILES = {"index.html": "text/html", "app.js": "text/javascript",
                "app.css": "text/css"}
CLOCK_STEPS = (6, 24, 72)
PHOTO_LIMIT = 10 * 1024 * 1024
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
PAGE_HEADER = "X-Sandbox"
HEARTBEAT_SECONDS = 15.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _static(name: str) -> bytes:
    return resources.files("bot.sandbox").joinpath("static", name).read_bytes()


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Local-only safety: known Host names, and POSTs only from the page itself."""
    allowed = request.app[ALLOWED_HOSTS]
    host = (request.host or "").rsplit(":", 1)[0].strip("[]").lower()
    if "*" not in allowed and host not in allowed:
        return web.json_response({"error": "unknown host"}, status=403)
    if request.method == "POST" and request.headers.get(PAGE_HEADER) != "1":
        return web.json_response({"error": "missing X-Sandbox header"}, status=403)
    return await handler(request)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


def _emu(sandbox: Sandbox) -> Emulator:
    if sandbox.emu is None:
        raise web.HTTPServiceUnavailable(text="the sandbox is restarting")
    return sandbox.emu


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


def clock_state(sandbox: Sandbox) -> JsonDict:
    now = sandbox.clock.now()
    tz = sandbox.base_settings.timezone
    state: JsonDict = {
        "now": now.isoformat(),
        "fa": format_datetime(now, "fa", tz),
        "en": format_datetime(now, "en", tz),
        "weekday_fa": format_weekday(now, "fa", tz),
        "weekday_en": format_weekday(now, "en", tz),
        "offset_hours": round(sandbox.clock.offset / timedelta(hours=1), 2),
        "steps": list(CLOCK_STEPS),
    }
    with contextlib.suppress(RuntimeError):      # the bot is restarting: no calendar now
        calendar = sandbox.calendar()
        holiday = calendar.holiday(calendar.local_date(now))
        state["office_open"] = calendar.is_open(now)
        state["holiday_fa"] = holiday.name_fa if holiday else ""
        state["holiday_en"] = holiday.name_en if holiday else ""
    return state


def commands_for(emu: Emulator, person: SandboxPerson) -> list[JsonDict]:
    """The command menu Telegram would show: most specific scope first, then language."""
    kind = "all_group_chats" if person.chat_id < 0 else "all_private_chats"
    for scope in (f"chat_member:{person.chat_id}:{person.user_id}", f"chat:{person.chat_id}",
                  kind, "default"):
        for language in ("fa", ""):
            if found := emu.commands(scope, language):
                return found
    return []


async def index(request: web.Request) -> web.Response:
    return web.Response(body=_static("index.html"), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    return web.Response(body=_static(name), content_type=STATIC_FILES[name], charset="utf-8",
                        headers={"Cache-Control": "no-store"})


async def state(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    await asyncio.wait_for(sandbox.ready.wait(), 30)
    return web.json_response({
        "people": [p.to_json() for p in sandbox.people],
        "clock": clock_state(sandbox),
        "database": str(sandbox.db_path),
    })


def _person(sandbox: Sandbox, key: object) -> SandboxPerson:
    try:
        return sandbox.person(str(key))
    except KeyError:
        raise web.HTTPNotFound(text="unknown person") from None


async def chat(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    emu = _emu(sandbox)
    person = _person(sandbox, request.query.get("key"))
    return web.json_response({
        "person": person.to_json(),
        "messages": emu.chat(person.chat_id),
        "keyboard": emu.current_keyboard(person.chat_id),
        "commands": commands_for(emu, person),
    })


async def _json_body(request: web.Request) -> JsonDict:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


def _int(body: JsonDict, name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise web.HTTPBadRequest(text=f"{name} must be an integer")
    return value


async def act(request: web.Request) -> web.Response:
    """One user action in the selected person's chat: text, button, contact or location."""
    sandbox = _sandbox(request)
    emu = _emu(sandbox)
    body = await _json_body(request)
    person = _person(sandbox, body.get("key"))
    action = body.get("action")
    chat_id = person.chat_id if person.chat_id != person.user_id else None
    try:
        if action == "text":
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                return _error("empty message")
            reply_to = body.get("reply_to")
            sent = emu.send_text(person.user_id, text, chat_id=chat_id,
                                 reply_to=_int(body, "reply_to") if reply_to is not None
                                 else None)
        elif action == "press":
            data = body.get("data")
            if not isinstance(data, str):
                return _error("data must be a string")
            sent = emu.press(person.user_id, _int(body, "message_id"), data, chat_id=chat_id)
        elif action == "contact":
            sent = emu.send_contact(person.user_id, SAMPLE_PHONE, chat_id=chat_id)
        elif action == "location":
            lat, lon = SAMPLE_LOCATION
            sent = emu.send_location(person.user_id, lat, lon, chat_id=chat_id)
        else:
            return _error("unknown action")
    except ValueError as exc:
        return _error(str(exc))
    return web.json_response({"update_id": sent.update_id, "message": sent.message})


async def photo(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    emu = _emu(sandbox)
    form = await request.post()
    person = _person(sandbox, form.get("key"))
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        return _error("no photo attached")
    data = upload.file.read()
    if not data:
        return _error("empty photo")
    caption = form.get("caption")
    reply_to = form.get("reply_to")
    chat_id = person.chat_id if person.chat_id != person.user_id else None
    try:
        sent = emu.send_photo(person.user_id, data,
                              caption=caption.strip() or None if isinstance(caption, str)
                              else None, chat_id=chat_id,
                              reply_to=int(reply_to) if isinstance(reply_to, str)
                              and reply_to.isdigit() else None)
    except ValueError as exc:
        return _error(str(exc))
    return web.json_response({"update_id": sent.update_id, "message": sent.message})


async def file(request: web.Request) -> web.Response:
    """A file the bot or a user sent. Only images are shown inline; the rest download."""
    emu = _emu(_sandbox(request))
    try:
        data, filename = emu.uploaded(request.match_info["file_id"])
    except KeyError:
        raise web.HTTPNotFound() from None
    mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    safe_name = "".join(c for c in filename if c.isalnum() or c in "._-") or "file"
    if mime in INLINE_IMAGES:
        return web.Response(body=data, content_type=mime)
    return web.Response(body=data, content_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{safe_name}"'})


async def residents(request: web.Request) -> web.Response:
    try:
        person = await _sandbox(request).add_resident()
    except (ValueError, RuntimeError) as exc:
        return _error(str(exc))
    return web.json_response({"person": person.to_json()})


async def clock(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    body = await _json_body(request)
    hours = body.get("hours")
    if body.get("to") == "morning":
        await sandbox.to_next_working_morning()
        return web.json_response({"clock": clock_state(sandbox)})
    if hours not in CLOCK_STEPS:
        return _error(f"hours must be one of {CLOCK_STEPS}, or to: morning")
    assert isinstance(hours, int)
    await sandbox.advance(timedelta(hours=hours))
    return web.json_response({"clock": clock_state(sandbox)})


async def clock_get(request: web.Request) -> web.Response:
    return web.json_response({"clock": clock_state(_sandbox(request))})


async def reset(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    await sandbox.reset()
    return web.json_response({"people": [p.to_json() for p in sandbox.people],
                              "clock": clock_state(sandbox)})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: every emulator event plus the sandbox's reset/people/clock."""
    sandbox = _sandbox(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    queue = sandbox.subscribe()
    try:
        await response.prepare(request)
        await response.write(b"retry: 1000\n: connected\n\n")
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            if event is None:
                break
            payload = json.dumps(event, ensure_ascii=False, default=str)
            await response.write(f"data: {payload}\n\n".encode())
    except (ConnectionResetError, ConnectionError):
        pass
    finally:
        sandbox.unsubscribe(queue)
    with contextlib.suppress(ConnectionError, RuntimeError):
        await response.write_eof()
    return response


def allowed_hosts(bind_host: str) -> frozenset[str]:
    """Names the browser may use for this server; any, when bound to every interface."""
    if bind_host in ("0.0.0.0", "::", ""):
        return frozenset({"*"})
    return frozenset({"127.0.0.1", "localhost", "::1", bind_host.lower()})


def make_app(sandbox: Sandbox, bind_host: str = "127.0.0.1") -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=PHOTO_LIMIT + 64 * 1024)
    app[SANDBOX_KEY] = sandbox
    app[ALLOWED_HOSTS] = allowed_hosts(bind_host)
    app.on_response_prepare.append(_security_headers)
    app.router.add_get("/", index)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/chat", chat)
    app.router.add_get("/api/clock", clock_get)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/file/{file_id}", file)
    app.router.add_post("/api/act", act)
    app.router.add_post("/api/photo", photo)
    app.router.add_post("/api/residents", residents)
    app.router.add_post("/api/clock", clock)
    app.router.add_post("/api/reset", reset)
    return app


async def start_web(sandbox: Sandbox, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve the page; returns the runner (to clean up) and the URL to open."""
    runner = web.AppRunner(make_app(sandbox, host), shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = int(runner.addresses[0][1])
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return runner, f"http://{shown}:{bound_port}/"
