"""Local Telegram Bot API emulator.

An aiohttp server that speaks the subset of the Bot API the bot uses, with Telegram's real
semantics (ids, dates, limits, error envelopes), plus a Python control API with which tests
and the sandbox page play users, observe chats and inject faults. Contract: docs/emulator.md.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import mimetypes
import re
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

JsonDict = dict[str, Any]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
DOWNLOAD_LIMIT = 20 * 1024 * 1024
UPLOAD_LIMIT = 50 * 1024 * 1024
DELETE_WINDOW = 48 * 3600
_INTERNAL_KEYS = ("from_bot", "deleted", "edits", "silent")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_SEND_METHODS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "sendvoice", "sendvideo", "sendaudio",
     "copymessage",
     "sendlocation"}
)
# Methods that reach a chat; a blocked user answers them with 403.
# What a copyMessage takes over from a media message.
_COPYABLE = ("photo", "voice", "video", "audio", "document", "location")
_CHAT_METHODS = _SEND_METHODS | {
    "editmessagetext",
    "editmessagecaption",
    "editmessagereplymarkup",
    "sendchataction",
}
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """A Bot API error; rendered as Telegram's ``{"ok": false, ...}`` envelope."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def envelope(self) -> JsonDict:
        body: JsonDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _utf16_len(text: str) -> int:
    """Telegram measures entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- request parsing

_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "cache_time",
        "user_id",
        "message_thread_id",
        "duration",
    }
)
_FLOAT_FIELDS = frozenset({"timeout", "latitude", "longitude", "horizontal_accuracy"})
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
    }
)
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "commands",
        "scope",
        "allowed_updates",
        "menu_button",
    }
)


@dataclass
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str
    mime_type: str | None


def _coerce(name: str, value: Any) -> Any:
    """Form fields are strings; PTB JSON-encodes every non-string value, so decode by name."""
    if not isinstance(value, str):
        return value
    if name in _INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value
    if name in _FLOAT_FIELDS:
        try:
            return float(value)
        except ValueError:
            return value
    if name in _BOOL_FIELDS:
        return value.strip().lower() in ("true", "1")
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass
class Params:
    """Decoded method parameters with typed accessors that raise Telegram-style errors."""

    values: JsonDict
    files: dict[str, Upload] = field(default_factory=dict)

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def get_int(self, name: str, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise _bad(f"{name} is empty")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f"invalid {name} specified")
        return int(value)

    def get_float(self, name: str) -> float:
        value = self.values.get(name)
        if value is None or value == "":
            raise _bad(f"{name} is empty")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(f"invalid {name} specified")
        return float(value)

    def get_bool(self, name: str) -> bool:
        return bool(self.values.get(name, False))

    def get_json(self, name: str) -> Any:
        return self.values.get(name)

    def get_file(self, name: str) -> Upload | str | None:
        """An upload (direct part or ``attach://``) or a string (file_id / URL)."""
        if name in self.files:
            return self.files[name]
        value = self.get_str(name)
        if value and value.startswith("attach://"):
            attached = self.files.get(value.removeprefix("attach://"))
            if attached is None:
                raise _bad(f"{name} attachment not found")
            return attached
        return value

    def for_log(self) -> JsonDict:
        logged = dict(self.values)
        for name, up in self.files.items():
            logged[name] = {"upload": up.filename, "size": len(up.data)}
        return logged


async def read_params(request: web.Request) -> Params:
    """Accept query string, urlencoded, multipart and JSON bodies, like Telegram does."""
    raw: JsonDict = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise _bad("request body must be a JSON object")
            raw.update(body)
        else:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = Upload(value.file.read(), value.filename, value.content_type)
                elif isinstance(value, bytes):
                    raw[name] = value.decode()
                else:
                    raw[name] = value
    return Params({k: _coerce(k, v) for k, v in raw.items()}, files)


# --------------------------------------------------------------------------- HTML parse_mode

_TAG_RE = re.compile(r"([A-Za-z][A-Za-z0-9-]*)(.*)", re.S)
_ATTR_RE = re.compile(r"""([A-Za-z][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
}


def _unescape(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref in _NAMED:
            return _NAMED[ref]
        code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
        return chr(code) if 0 < code < 0x110000 else m.group(0)

    return _ENTITY_RE.sub(repl, text)


def _parse_attrs(text: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for m in _ATTR_RE.finditer(text):
        value = next((g for g in m.groups()[1:] if g is not None), "")
        attrs[m.group(1).lower()] = _unescape(value)
    return attrs


def _open_entity(
    name: str, attrs: dict[str, str], stack: list[tuple[str, int, JsonDict | None]], where: str
) -> JsonDict | None:
    """Entity prototype for an opening tag; None when the tag yields no entity."""
    if name in _SIMPLE_TAGS:
        if name == "code" and stack and stack[-1][0] == "pre":
            language = attrs.get("class", "")
            pre = stack[-1][2]
            if language.startswith("language-") and pre is not None:
                pre["language"] = language.removeprefix("language-")
                return None
        return {"type": _SIMPLE_TAGS[name]}
    if name == "a":
        href = attrs.get("href")
        return {"type": "text_link", "url": href} if href else None
    if name == "span" and attrs.get("class") == "tg-spoiler":
        return {"type": "spoiler"}
    if name == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    raise _bad(f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {where}')


def parse_html(source: str) -> tuple[str, list[JsonDict]]:
    """Telegram's HTML parse_mode: plain text plus entities with UTF-16 offsets."""
    out: list[str] = []
    pos = 0
    stack: list[tuple[str, int, JsonDict | None]] = []
    entities: list[JsonDict] = []
    i = 0

    def byte_offset(index: int) -> str:
        return str(len(source[:index].encode()))

    while i < len(source):
        ch = source[i]
        if ch == "<":
            end = source.find(">", i)
            if end == -1:
                raise _bad(
                    f"can't parse entities: Unclosed start tag at byte offset {byte_offset(i)}"
                )
            inner = source[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise _bad(
                        f"can't parse entities: Unexpected end tag at byte offset {byte_offset(i)}"
                    )
                open_name, start, proto = stack.pop()
                if name != open_name:
                    raise _bad(
                        f"can't parse entities: Unmatched end tag at byte offset "
                        f'{byte_offset(i)}, expected "</{open_name}>", found "</{name}>"'
                    )
                if proto is not None and pos > start:
                    entities.append({**proto, "offset": start, "length": pos - start})
            else:
                m = _TAG_RE.fullmatch(inner.rstrip("/"))
                if m is None:
                    raise _bad(
                        f'can\'t parse entities: Unsupported start tag "{inner}" at byte offset '
                        f"{byte_offset(i)}"
                    )
                name = m.group(1).lower()
                proto = _open_entity(name, _parse_attrs(m.group(2)), stack, byte_offset(i))
                stack.append((name, pos, proto))
            i = end + 1
            continue
        nxt = min(
            (j for j in (source.find("<", i), source.find("&", i + 1)) if j != -1),
            default=len(source),
        )
        if ch == "&" and (em := _ENTITY_RE.match(source, i)) is not None:
            chunk, nxt = _unescape(em.group(0)), em.end()
        else:
            chunk = source[i:nxt]
        out.append(chunk)
        pos += _utf16_len(chunk)
        i = nxt
    if stack:
        raise _bad(
            f"can't parse entities: Can't find end tag corresponding to start tag "
            f'"{stack[-1][0]}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _trim(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    """Telegram strips surrounding whitespace and shifts/clips entities accordingly."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = _utf16_len(text[: len(text) - len(text.lstrip())])
    total = _utf16_len(stripped)
    kept: list[JsonDict] = []
    for ent in entities:
        start = min(max(ent["offset"] - lead, 0), total)
        end = min(max(ent["offset"] + ent["length"] - lead, 0), total)
        if end > start:
            kept.append({**ent, "offset": start, "length": end - start})
    return stripped, kept


_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![^\s])")


def command_entities(text: str) -> list[JsonDict]:
    """bot_command entities as Telegram adds them to user messages."""
    return [
        {
            "type": "bot_command",
            "offset": _utf16_len(text[: m.start()]),
            "length": _utf16_len(m.group(0)),
        }
        for m in _COMMAND_RE.finditer(text)
    ]


def _image_size(data: bytes) -> tuple[int, int]:
    """Width/height of a PNG (others get a plausible default)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 512, 512


# --------------------------------------------------------------------------- state


@dataclass
class EmuUser:
    """A simulated Telegram user."""

    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None
    last_name: str | None = None
    is_bot: bool = False

    def to_api(self) -> JsonDict:
        data: JsonDict = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class Sent:
    """What a user action produced."""

    update_id: int
    message: JsonDict | None
    callback_query_id: str | None


@dataclass
class _Chat:
    info: JsonDict
    messages: dict[int, JsonDict] = field(default_factory=dict)
    next_message_id: int = 1
    keyboard: JsonDict | None = None
    send_times: deque[float] = field(default_factory=deque)


@dataclass
class _StoredFile:
    kind: str
    file_id: str
    file_unique_id: str
    data: bytes
    filename: str
    mime_type: str | None
    file_path: str


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    remaining: int | None
    chat_id: int | None
    description: str


class _Pulse:
    """A re-armable broadcast signal: sync code fires it, async waiters wake."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    def current(self) -> asyncio.Event:
        return self._event


_DEFAULT_FAULT_TEXT = {
    400: "Bad Request: injected fault",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

Handler = Callable[[Params], Awaitable[Any]]


@dataclass(frozen=True)
class Profile:
    """A Bot-API-compatible server that lacks some of Telegram's methods and parameters."""

    missing_methods: frozenset[str] = frozenset()
    refused_parameters: frozenset[str] = frozenset()


PROFILES = {
    "telegram": Profile(),
    # Bale (tapi.bale.ai): command menus and descriptions are set in Bale's own BotFather;
    # newer parameters are refused (the ones below stand for any of them).
    "bale": Profile(
        missing_methods=frozenset({"setmycommands", "deletemycommands", "getmycommands",
                                   "setmydescription", "setmyshortdescription",
                                   "setchatmenubutton", "getchatmenubutton"}),
        refused_parameters=frozenset({"secret_token", "disable_notification",
                                      "link_preview_options", "message_effect_id",
                                      "reply_parameters", "protect_content"})),
}


class Emulator:
    """The Bot API server plus the control API used to play users and inject faults."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "mahalleyar_bot",
        clock: Callable[[], float] = time.time,
        enforce_limits: bool = False,
        bot_name: str = "Mahalleyar",
        profile: str = "telegram",
    ) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; one of {sorted(PROFILES)}")
        self.profile = PROFILES[profile]
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.clock = clock
        self.enforce_limits = enforce_limits
        self.port = 0
        self.host = "127.0.0.1"
        self.requests: list[tuple[str, JsonDict]] = []
        self.callback_answers: dict[str, JsonDict] = {}
        self.menu_buttons: dict[int | None, JsonDict] = {}
        self._users: dict[int, EmuUser] = {}
        self._chats: dict[int, _Chat] = {}
        self._blocked: set[int] = set()
        self._updates: list[JsonDict] = []
        self._next_update_id = 1
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._callbacks: dict[str, tuple[int, int]] = {}  # id -> (chat_id, message_id)
        self._next_callback = 1
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._next_file = 1
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._late_answers: dict[str, float] = {}
        self._global_sends: deque[float] = deque()
        self._subscribers: list[asyncio.Queue[JsonDict]] = []
        self._updates_pulse = _Pulse()
        self._changed = _Pulse()
        self._closing = False
        self._runner: web.AppRunner | None = None
        # Webhook delivery mode (setWebhook): updates are POSTed instead of polled.
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[tuple[int, int]] = []   # (update_id, HTTP status)
        self.webhook_last_error: str | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        table: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendVoice": self._send_voice,
            "sendVideo": self._send_video,
            "sendAudio": self._send_audio,
            "sendLocation": self._send_location,
            "copyMessage": self._copy_message,
            "getFile": self._get_file,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "close": self._true,
            "logOut": self._true,
        }
        self._methods = {name.lower(): (name, handler) for name, handler in table.items()}

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._closing = False
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host = host
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Release pending long polls first so shutdown does not wait for their timeout."""
        self._closing = True
        self._updates_pulse.fire()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json_error(ApiError(401, "Unauthorized"))
        requested = request.match_info["method"]
        name, handler = self._methods.get(requested.lower(), (requested, None))
        try:
            params = await read_params(request)
        except ApiError as exc:
            return _json_error(exc)
        except ValueError:
            return _json_error(_bad("can't parse request body"))
        self.requests.append((name, params.for_log()))
        if handler is None or name.lower() in self.profile.missing_methods:
            return _json_error(ApiError(404, "Not Found"))
        refused = sorted(set(params.values) & self.profile.refused_parameters)
        if refused:
            return _json_error(_bad(f"unknown parameter {refused[0]}"))
        try:
            if (delay := self._delays.get(name.lower(), 0.0)) > 0:
                await asyncio.sleep(delay)
            self._gate(name.lower(), params)
            result = await handler(params)
            if (late := self._late_answers.get(name.lower(), 0.0)) > 0:
                await asyncio.sleep(late)       # done, but the answer is slow
        except ApiError as exc:
            return _json_error(exc)
        if name.lower() in _SEND_METHODS:
            self._count_send(params)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json_error(ApiError(401, "Unauthorized"))
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _json_error(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _gate(self, method: str, params: Params) -> None:
        """Faults, blocks and flood limits, checked before the method runs."""
        chat_id = params.values.get("chat_id")
        for fault in self._faults.get(method, []):
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults[method].remove(fault)
            raise ApiError(fault.status, fault.description, fault.retry_after)
        if method in _CHAT_METHODS and chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if self.enforce_limits and method in _SEND_METHODS and isinstance(chat_id, int):
            self._check_limits(chat_id)

    def _check_limits(self, chat_id: int) -> None:
        """retry_after is the honest wait until the oldest send leaves its window."""
        now = self.clock()
        chat = self._chats.get(chat_id)
        waits: list[float] = []
        while self._global_sends and self._global_sends[0] <= now - 1.0:
            self._global_sends.popleft()
        if len(self._global_sends) >= 30:
            waits.append(self._global_sends[-30] + 1.0 - now)
        if chat is not None:
            window, cap = (1.0, 1) if chat.info["type"] == "private" else (60.0, 20)
            while chat.send_times and chat.send_times[0] <= now - window:
                chat.send_times.popleft()
            if len(chat.send_times) >= cap:
                waits.append(chat.send_times[-cap] + window - now)
        if waits:
            retry = max(1, math.ceil(max(waits)))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry)

    def _count_send(self, params: Params) -> None:
        now = self.clock()
        self._global_sends.append(now)
        chat = self._chats.get(params.values.get("chat_id", 0))
        if chat is not None:
            chat.send_times.append(now)

    # ------------------------------------------------------------------ helpers

    def _now(self) -> int:
        return int(self.clock())

    def _bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def _chat_for(self, params: Params) -> _Chat:
        value = params.values.get("chat_id")
        if value is None or value == "":
            raise _bad("chat_id is empty")
        if isinstance(value, str):  # "@username"
            for candidate in self._chats.values():
                if value.lstrip("@") == candidate.info.get("username"):
                    return candidate
            raise _bad("chat not found")
        chat = self._chats.get(int(value))
        if chat is None:
            raise _bad("chat not found")
        return chat

    def _message(self, chat: _Chat, message_id: int | None) -> JsonDict | None:
        msg = chat.messages.get(message_id or 0)
        return None if msg is None or msg["deleted"] else msg

    def _emit(self, event: JsonDict) -> None:
        for queue in self._subscribers:
            queue.put_nowait(copy.deepcopy(event))
        self._changed.fire()

    def _enqueue(self, kind: str, payload: JsonDict) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        self._updates_pulse.fire()
        return update_id

    def _store(
        self,
        chat: _Chat,
        sender: JsonDict,
        from_bot: bool,
        content: JsonDict,
        reply_to: JsonDict | None,
    ) -> JsonDict:
        msg: JsonDict = {
            "message_id": chat.next_message_id,
            "from": sender,
            "chat": dict(chat.info),
            "date": self._now(),
        }
        chat.next_message_id += 1
        if reply_to is not None:
            msg["reply_to_message"] = _api(reply_to, nested=False)
        msg.update(content)
        msg.update({"from_bot": from_bot, "deleted": False, "edits": 0})
        chat.messages[msg["message_id"]] = msg
        self._emit({"type": "message", "chat_id": chat.info["id"], "message": msg})
        return msg

    def _store_file(self, kind: str, data: bytes, filename: str, mime: str | None) -> _StoredFile:
        n = self._next_file
        self._next_file += 1
        ext = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        folder = {
            "photo": "photos",
            "voice": "voice",
            "sticker": "stickers",
            "animation": "animations",
            "video": "videos",
            "audio": "music",
        }.get(kind, "documents")
        stored = _StoredFile(
            kind,
            f"EMU{kind[:3].upper()}{n:06d}{self.bot_id}",
            f"emu-u{n}",
            data,
            filename,
            mime or mimetypes.guess_type(filename)[0],
            f"{folder}/file_{n}.{ext}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _text_and_entities(
        self, params: Params, text_key: str, entities_key: str, limit: int, too_long: str
    ) -> tuple[str, list[JsonDict]]:
        text = params.get_str(text_key) or ""
        mode = (params.get_str("parse_mode") or "").strip()
        explicit = params.get_json(entities_key)
        if isinstance(explicit, list):
            entities: list[JsonDict] = [e for e in explicit if isinstance(e, dict)]
        elif mode.lower() == "html":
            text, entities = parse_html(text)
        elif mode:
            raise _bad(f"unsupported parse_mode in emulator: {mode}")
        else:
            entities = []
        text, entities = _trim(text, entities)
        if _utf16_len(text) > limit:      # Telegram counts UTF-16 code units
            raise _bad(too_long)
        return text, entities

    def _inline_markup(self, params: Params) -> JsonDict | None:
        """Validate reply_markup; return it when it is an inline keyboard (stored on messages)."""
        markup = params.get_json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse inline keyboard markup JSON object")
            for row in rows:
                for button in row:
                    _check_inline_button(button)
            return markup if any(rows) else None
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse reply keyboard markup JSON object")
        return None

    def _apply_reply_keyboard(self, chat: _Chat, params: Params) -> None:
        markup = params.get_json("reply_markup")
        if not isinstance(markup, dict):
            return
        if "keyboard" in markup:
            chat.keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.keyboard = None
        else:
            return
        self._emit({"type": "keyboard", "chat_id": chat.info["id"], "keyboard": chat.keyboard})

    def _reply_target(self, chat: _Chat, params: Params) -> JsonDict | None:
        reply_id = params.get_int("reply_to_message_id")
        allow_missing = params.get_bool("allow_sending_without_reply")
        rp = params.get_json("reply_parameters")
        if isinstance(rp, dict):
            reply_id = rp.get("message_id")
            allow_missing = bool(rp.get("allow_sending_without_reply", False))
            if rp.get("chat_id") not in (None, chat.info["id"]):
                raise _bad("replies to messages in other chats are not supported by emulator")
        if reply_id is None:
            return None
        target = self._message(chat, int(reply_id))
        if target is None and not allow_missing:
            raise _bad("message to be replied not found")
        return target

    async def _bot_send(self, params: Params, content: JsonDict) -> JsonDict:
        chat = self._chat_for(params)
        markup = self._inline_markup(params)
        reply_to = self._reply_target(chat, params)
        if markup is not None:
            content["reply_markup"] = markup
        if params.get_bool("disable_notification"):
            content["silent"] = True      # bookkeeping: sent without a sound
        msg = self._store(chat, self._bot_user(), True, content, reply_to)
        self._apply_reply_keyboard(chat, params)
        return _api(msg)

    def _editable(self, params: Params) -> tuple[_Chat, JsonDict]:
        if params.get_str("inline_message_id"):
            raise _bad("inline messages are not supported by emulator")
        chat = self._chat_for(params)
        msg = self._message(chat, params.get_int("message_id", required=True))
        if msg is None:
            raise _bad("message to edit not found")
        if not msg["from_bot"]:
            raise _bad("message can't be edited")
        return chat, msg

    def _commit_edit(
        self, chat: _Chat, msg: JsonDict, changes: JsonDict, markup: JsonDict | None
    ) -> JsonDict:
        """Apply an edit, refusing a no-op like Telegram does."""
        before = {k: msg.get(k) for k in (*changes, "reply_markup")}
        after = {**changes, "reply_markup": markup}
        if before == after:
            raise _bad(_NOT_MODIFIED)
        for key, value in after.items():
            if value in (None, []) and key != "text":
                msg.pop(key, None)
            else:
                msg[key] = value
        msg["edit_date"] = self._now()
        msg["edits"] += 1
        self._emit({"type": "edit", "chat_id": chat.info["id"], "message": msg})
        return _api(msg)

    def _resolve_file(self, params: Params, key: str, kind: str) -> _StoredFile:
        given = params.get_file(key)
        if isinstance(given, Upload):
            if not given.data:
                raise _bad("file must be non-empty")
            return self._store_file(kind, given.data, given.filename, given.mime_type)
        if not given:
            raise _bad(f"there is no {key} in the request")
        stored = self._files.get(given)
        if stored is None:
            if given.startswith(("http://", "https://")):
                raise _bad("failed to get HTTP URL content")
            raise _bad("wrong file identifier/HTTP URL specified")
        if (stored.kind == "photo") != (kind == "photo"):
            raise _bad(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored

    # ------------------------------------------------------------------ Bot API methods

    async def _true(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> JsonDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _deliverable(self) -> list[JsonDict]:
        if self._allowed_updates:
            allowed = self._allowed_updates
            self._updates = [u for u in self._updates if set(u) - {"update_id"} <= allowed]
        return self._updates

    async def _get_updates(self, params: Params) -> list[JsonDict]:
        """Long polling: wakes as soon as an update is enqueued; a newer poll ends older ones."""
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                "active; use deleteWebhook to delete the webhook first")
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_pulse.fire()
        if (offset := params.get_int("offset")) is not None:
            self._confirm(offset)
        limit = min(max(params.get_int("limit") or 100, 1), 100)
        allowed = params.get_json("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = {str(a) for a in allowed} or None
        timeout = params.values.get("timeout") or 0
        deadline = asyncio.get_running_loop().time() + max(float(timeout), 0.0)
        while not self._deliverable() and not self._closing:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure "
                    "that only one bot instance is running",
                )
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(self._updates_pulse.current().wait(), remaining)
            except TimeoutError:
                break
        return copy.deepcopy(self._deliverable()[:limit])

    async def _delete_webhook(self, params: Params) -> bool:
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
        await self._stop_webhook()
        self.webhook_url, self.webhook_secret = "", None
        return True

    async def _get_webhook_info(self, params: Params) -> JsonDict:
        info: JsonDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_last_error:
            info["last_error_message"] = self.webhook_last_error
        return info

    async def _set_webhook(self, params: Params) -> bool:
        """Webhook delivery mode. Unlike Telegram (HTTPS on 443/80/88/8443 only) any http(s)
        URL is accepted, as a self-hosted Bot API server does, so tests stay on loopback."""
        url = params.get_str("url") or ""
        if not url:
            return await self._delete_webhook(params)
        if not re.match(r"https?://\S+$", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get_str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("bad webhook: secret token contains unallowed characters")
        if params.get_bool("drop_pending_updates"):
            self._updates.clear()
        allowed = params.get_json("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = {str(a) for a in allowed} or None
        await self._stop_webhook()
        self.webhook_url, self.webhook_secret = url, secret
        self._poll_generation += 1          # ends a pending long poll
        self._updates_pulse.fire()
        self._webhook_task = asyncio.create_task(self._deliver(), name="emulator-webhook")
        return True

    async def _stop_webhook(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _deliver(self) -> None:
        """One update at a time, in order, as Telegram does; a failed delivery is retried
        (after a pause) until the bot answers 2xx."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} \
            if self.webhook_secret else {}
        async with ClientSession(timeout=ClientTimeout(total=30)) as session:
            while not self._closing:
                pending = self._deliverable()
                if not pending:
                    await self._updates_pulse.current().wait()
                    continue
                update = copy.deepcopy(pending[0])
                try:
                    async with session.post(self.webhook_url, json=update,
                                            headers=headers) as answer:
                        status = answer.status
                except (ClientError, TimeoutError) as exc:
                    status, self.webhook_last_error = 0, f"Connection failed: {exc!r}"
                self.webhook_deliveries.append((update["update_id"], status))
                if 200 <= status < 300:
                    self.webhook_last_error = None
                    self._confirm(update["update_id"] + 1)
                    continue
                if status:
                    self.webhook_last_error = f"Wrong response from the webhook: {status}"
                await asyncio.sleep(0.5)

    async def _send_message(self, params: Params) -> JsonDict:
        self._chat_for(params)
        text, entities = self._text_and_entities(
            params, "text", "entities", TEXT_LIMIT, "message is too long"
        )
        if not text:
            raise _bad("message text is empty")
        content: JsonDict = {"text": text}
        if entities:
            content["entities"] = entities
        return await self._bot_send(params, content)

    async def _send_photo(self, params: Params) -> JsonDict:
        self._chat_for(params)
        caption = self._caption(params)
        stored = self._resolve_file(params, "photo", "photo")
        return await self._bot_send(params, {"photo": _photo_sizes(stored), **caption})

    async def _send_document(self, params: Params) -> JsonDict:
        self._chat_for(params)
        caption = self._caption(params)
        stored = self._resolve_file(params, "document", "document")
        return await self._bot_send(params, {"document": _document(stored), **caption})

    async def _send_voice(self, params: Params) -> JsonDict:
        self._chat_for(params)
        caption = self._caption(params)
        stored = self._resolve_file(params, "voice", "voice")
        media = _media(stored, params.get_int("duration") or 0)
        return await self._bot_send(params, {"voice": media, **caption})

    async def _send_video(self, params: Params) -> JsonDict:
        self._chat_for(params)
        caption = self._caption(params)
        stored = self._resolve_file(params, "video", "video")
        media = _media(stored, params.get_int("duration") or 0)
        media.update({"width": 320, "height": 240, "file_name": stored.filename})
        return await self._bot_send(params, {"video": media, **caption})

    async def _send_audio(self, params: Params) -> JsonDict:
        self._chat_for(params)
        caption = self._caption(params)
        stored = self._resolve_file(params, "audio", "audio")
        media = _media(stored, params.get_int("duration") or 0)
        media["file_name"] = stored.filename
        return await self._bot_send(params, {"audio": media, **caption})

    async def _send_location(self, params: Params) -> JsonDict:
        self._chat_for(params)
        latitude, longitude = params.get_float("latitude"), params.get_float("longitude")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _bad("wrong location specified")
        return await self._bot_send(
            params, {"location": {"latitude": latitude, "longitude": longitude}}
        )

    async def _copy_message(self, params: Params) -> JsonDict:
        """A copy without a link to the original (unlike a forward); `caption` replaces the
        caption of a media message. Returns only the new message id, as Telegram does."""
        self._chat_for(params)
        source_id = params.values.get("from_chat_id")
        try:
            source_chat = self._chats.get(int(str(source_id)))
        except ValueError:
            raise _bad("invalid from_chat_id specified") from None
        if source_chat is None:
            raise _bad("chat not found")
        source = self._message(source_chat, params.get_int("message_id", required=True))
        if source is None:
            raise _bad("message to copy not found")
        media = [k for k in _COPYABLE if k in source]
        content: JsonDict = {k: copy.deepcopy(source[k]) for k in media}
        if not media:
            if "text" not in source:
                raise _bad("the message can't be copied")
            content["text"] = source["text"]
            if source.get("entities"):
                content["entities"] = copy.deepcopy(source["entities"])
        elif "caption" in params.values:
            content.update(self._caption(params))
        else:
            content.update({k: copy.deepcopy(source[k]) for k in ("caption", "caption_entities")
                            if k in source})
        sent = await self._bot_send(params, content)
        return {"message_id": sent["message_id"]}

    def _caption(self, params: Params) -> JsonDict:
        text, entities = self._text_and_entities(
            params, "caption", "caption_entities", CAPTION_LIMIT, "message caption is too long"
        )
        content: JsonDict = {}
        if text:
            content["caption"] = text
        if entities:
            content["caption_entities"] = entities
        return content

    async def _edit_message_text(self, params: Params) -> JsonDict:
        chat, msg = self._editable(params)
        if "text" not in msg:
            raise _bad("there is no text in the message to edit")
        text, entities = self._text_and_entities(
            params, "text", "entities", TEXT_LIMIT, "message is too long"
        )
        if not text:
            raise _bad("message text is empty")
        markup = self._inline_markup(params)
        return self._commit_edit(chat, msg, {"text": text, "entities": entities or None}, markup)

    async def _edit_message_caption(self, params: Params) -> JsonDict:
        chat, msg = self._editable(params)
        if "text" in msg:
            raise _bad("there is no caption in the message to edit")
        caption = self._caption(params)
        changes = {
            "caption": caption.get("caption"),
            "caption_entities": caption.get("caption_entities"),
        }
        return self._commit_edit(chat, msg, changes, self._inline_markup(params))

    async def _edit_message_reply_markup(self, params: Params) -> JsonDict:
        chat, msg = self._editable(params)
        return self._commit_edit(chat, msg, {}, self._inline_markup(params))

    async def _delete_message(self, params: Params) -> bool:
        chat = self._chat_for(params)
        msg = self._message(chat, params.get_int("message_id", required=True))
        if msg is None:
            raise _bad("message to delete not found")
        if self._now() - msg["date"] > DELETE_WINDOW:
            raise _bad("message can't be deleted")
        msg["deleted"] = True
        self._emit({"type": "delete", "chat_id": chat.info["id"], "message": msg})
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.get_str("callback_query_id") or ""
        if query_id not in self._callbacks or query_id in self.callback_answers:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        answer = {
            "text": params.get_str("text"),
            "show_alert": params.get_bool("show_alert"),
            "url": params.get_str("url"),
            "cache_time": params.get_int("cache_time"),
        }
        self.callback_answers[query_id] = answer
        chat_id, _ = self._callbacks[query_id]
        self._emit(
            {"type": "callback_answer", "chat_id": chat_id, "callback_query_id": query_id, **answer}
        )
        return True

    def _scope_key(self, params: Params) -> tuple[str, str]:
        scope = params.get_json("scope")
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad("can't parse BotCommandScope JSON object")
        key = str(scope["type"])
        if "chat_id" in scope:
            key += f":{scope['chat_id']}"
        if "user_id" in scope:
            key += f":{scope['user_id']}"
        return key, params.get_str("language_code") or ""

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.get_json("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        for cmd in commands:
            if not isinstance(cmd, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        if len(commands) > 100:
            raise _bad("too many commands")
        key = self._scope_key(params)
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: Params) -> list[JsonDict]:
        return copy.deepcopy(self._commands.get(self._scope_key(params), []))

    async def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        self._chat_for(params)
        if params.get_str("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _get_file(self, params: Params) -> JsonDict:
        stored = self._files.get(params.get_str("file_id") or "")
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > DOWNLOAD_LIMIT:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    async def _set_chat_menu_button(self, params: Params) -> bool:
        button = params.get_json("menu_button") or {"type": "default"}
        if not isinstance(button, dict):
            raise _bad("can't parse menu button JSON object")
        self.menu_buttons[params.get_int("chat_id")] = button
        return True

    async def _get_chat_menu_button(self, params: Params) -> JsonDict:
        return copy.deepcopy(self.menu_buttons.get(params.get_int("chat_id"), {"type": "default"}))

    # ------------------------------------------------------------------ control API: setup

    def add_user(self, user: EmuUser) -> EmuUser:
        self._users[user.id] = user
        info: JsonDict = {"id": user.id, "type": "private", "first_name": user.first_name}
        if user.last_name:
            info["last_name"] = user.last_name
        if user.username:
            info["username"] = user.username
        self._chats.setdefault(user.id, _Chat(info))
        return user

    def add_group(self, chat_id: int, title: str, username: str | None = None) -> JsonDict:
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        info: JsonDict = {"id": chat_id, "type": kind, "title": title}
        if username:
            info["username"] = username
        self._chats.setdefault(chat_id, _Chat(info))
        return dict(info)

    def set_next_update_id(self, update_id: int) -> None:
        """Continue numbering above ids a bot's database has already seen (the bot drops
        repeats), e.g. when a new emulator serves a bot restarted on an existing database."""
        if update_id < 1:
            raise ValueError("update ids start at 1")
        self._next_update_id = max(self._next_update_id, update_id)

    # ------------------------------------------------------------------ control API: users act

    def _user_message(
        self, user_id: int, chat_id: int | None, content: JsonDict, reply_to: int | None = None
    ) -> Sent:
        user = self._users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id}; call add_user first")
        chat = self._chats.get(user_id if chat_id is None else chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}")
        target = None
        if reply_to is not None:
            target = self._message(chat, reply_to)
            if target is None:
                raise ValueError(f"no message {reply_to} in chat {chat.info['id']}")
        self._consume_one_time_keyboard(chat, content)
        msg = self._store(chat, user.to_api(), False, content, target)
        update_id = self._enqueue("message", _api(msg))
        return Sent(update_id, _api(msg), None)

    def _consume_one_time_keyboard(self, chat: _Chat, content: JsonDict) -> None:
        """Clients hide a one_time_keyboard once one of its buttons is used."""
        kb = chat.keyboard
        if kb is None or not kb.get("one_time_keyboard"):
            return
        buttons = [b if isinstance(b, dict) else {"text": b} for row in kb["keyboard"] for b in row]
        used = any(
            b.get("text") == content.get("text")
            or (b.get("request_contact") and "contact" in content)
            or (b.get("request_location") and "location" in content)
            for b in buttons
        )
        if used:
            chat.keyboard = None
            self._emit({"type": "keyboard", "chat_id": chat.info["id"], "keyboard": None})

    def send_text(
        self, user_id: int, text: str, chat_id: int | None = None, reply_to: int | None = None
    ) -> Sent:
        if not text.strip():
            raise ValueError("Telegram clients cannot send an empty message")
        content: JsonDict = {"text": text}
        if entities := command_entities(text):
            content["entities"] = entities
        return self._user_message(user_id, chat_id, content, reply_to)

    def send_contact(
        self,
        user_id: int,
        phone_number: str,
        chat_id: int | None = None,
        own: bool = True,
        first_name: str | None = None,
    ) -> Sent:
        user = self._users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id}; call add_user first")
        contact: JsonDict = {
            "phone_number": phone_number,
            "first_name": first_name or user.first_name,
        }
        if own:
            contact["user_id"] = user_id
            if user.last_name:
                contact["last_name"] = user.last_name
        return self._user_message(user_id, chat_id, {"contact": contact})

    def send_location(
        self, user_id: int, latitude: float, longitude: float, chat_id: int | None = None
    ) -> Sent:
        return self._user_message(
            user_id, chat_id, {"location": {"latitude": latitude, "longitude": longitude}}
        )

    def send_photo(
        self, user_id: int, data: bytes, caption: str | None = None, chat_id: int | None = None,
        reply_to: int | None = None
    ) -> Sent:
        stored = self._store_file("photo", data, "photo.jpg", "image/jpeg")
        content: JsonDict = {"photo": _photo_sizes(stored)}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, chat_id, content, reply_to)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        filename: str = "file.bin",
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> Sent:
        stored = self._store_file("document", data, filename, mime_type)
        content: JsonDict = {"document": _document(stored)}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, chat_id, content, reply_to)

    def send_voice(
        self,
        user_id: int,
        data: bytes = b"OggS-emu-voice",
        duration: int = 3,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> Sent:
        stored = self._store_file("voice", data, "voice.ogg", "audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self._user_message(user_id, chat_id, {"voice": voice}, reply_to)

    def send_video(
        self,
        user_id: int,
        data: bytes = b"emu-mp4-video",
        duration: int = 5,
        caption: str | None = None,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> Sent:
        stored = self._store_file("video", data, "video.mp4", "video/mp4")
        video = _media(stored, duration)
        video.update({"width": 320, "height": 240, "file_name": stored.filename})
        content: JsonDict = {"video": video}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, chat_id, content, reply_to)

    def send_audio(
        self,
        user_id: int,
        data: bytes = b"ID3-emu-audio",
        duration: int = 30,
        filename: str = "audio.mp3",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> Sent:
        stored = self._store_file("audio", data, filename, "audio/mpeg")
        audio = _media(stored, duration)
        audio["file_name"] = stored.filename
        content: JsonDict = {"audio": audio}
        if caption:
            content["caption"] = caption
        return self._user_message(user_id, chat_id, content)

    def send_sticker(self, user_id: int, emoji: str = "👍", chat_id: int | None = None) -> Sent:
        stored = self._store_file("sticker", b"RIFF-emu-sticker-WEBP", "sticker.webp", "image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        return self._user_message(user_id, chat_id, {"sticker": sticker})

    def send_animation(self, user_id: int, chat_id: int | None = None) -> Sent:
        """Telegram sends GIFs as both ``animation`` and ``document``."""
        stored = self._store_file("animation", b"emu-mp4-animation", "animation.mp4", "video/mp4")
        animation = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 320,
            "height": 240,
            "duration": 2,
            "file_name": stored.filename,
            "mime_type": "video/mp4",
            "file_size": len(stored.data),
        }
        return self._user_message(
            user_id, chat_id, {"animation": animation, "document": _document(stored)}
        )

    def press(
        self,
        user_id: int,
        message_id: int,
        data: str,
        chat_id: int | None = None,
        force: bool = False,
    ) -> Sent:
        """Press an inline button of a (current) bot message; force allows forged data."""
        user = self._users.get(user_id)
        chat = self._chats.get(user_id if chat_id is None else chat_id)
        if user is None or chat is None:
            raise ValueError("unknown user or chat")
        msg = self._message(chat, message_id)
        if msg is None or not msg["from_bot"]:
            raise ValueError(f"no bot message {message_id} in chat {chat.info['id']}")
        offered = [
            b.get("callback_data")
            for row in msg.get("reply_markup", {}).get("inline_keyboard", [])
            for b in row
        ]
        if data not in offered and not force:
            raise ValueError(f"message {message_id} has no button with data {data!r}")
        query_id = f"{self.bot_id}{self._next_callback:08d}"
        self._next_callback += 1
        self._callbacks[query_id] = (chat.info["id"], message_id)
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": _api(msg),
            "chat_instance": str(abs(chat.info["id"]) * 7919 + self.bot_id),
            "data": data,
        }
        return Sent(self._enqueue("callback_query", query), None, query_id)

    # ------------------------------------------------------------------ control API: observe

    def chat_ids(self) -> list[int]:
        return list(self._chats)

    def chat(self, chat_id: int) -> list[JsonDict]:
        chat = self._chats.get(chat_id)
        return copy.deepcopy(list(chat.messages.values())) if chat else []

    def bot_messages(self, chat_id: int) -> list[JsonDict]:
        return [m for m in self.chat(chat_id) if m["from_bot"] and not m["deleted"]]

    def last_bot_message(self, chat_id: int) -> JsonDict | None:
        messages = self.bot_messages(chat_id)
        return messages[-1] if messages else None

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[JsonDict], bool] | None = None,
        after: int = 0,
        timeout: float = 5.0,
    ) -> JsonDict:
        """First bot message with message_id > after matching predicate (edits count)."""
        async with asyncio.timeout(timeout):
            while True:
                changed = self._changed.current()
                for msg in self.bot_messages(chat_id):
                    if msg["message_id"] > after and (predicate is None or predicate(msg)):
                        return msg
                await changed.wait()

    def current_keyboard(self, chat_id: int) -> JsonDict | None:
        chat = self._chats.get(chat_id)
        return copy.deepcopy(chat.keyboard) if chat else None

    def commands(self, scope: str = "default", language_code: str = "") -> list[JsonDict]:
        """scope is the type, with ':<chat_id>' / ':<chat_id>:<user_id>' for chat scopes."""
        return copy.deepcopy(self._commands.get((scope, language_code), []))

    def uploaded(self, file_id: str) -> tuple[bytes, str]:
        stored = self._files[file_id]
        return stored.data, stored.filename

    def pending_updates(self) -> list[JsonDict]:
        return copy.deepcopy(self._updates)

    def subscribe(self) -> asyncio.Queue[JsonDict]:
        queue: asyncio.Queue[JsonDict] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JsonDict]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    # ------------------------------------------------------------------ control API: faults

    def inject_fault(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = None,
        count: int | None = 1,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        """Fail the next `count` calls (None = until clear_faults) of `method`."""
        if status == 429:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        text = description or _DEFAULT_FAULT_TEXT.get(status, f"Error {status}")
        fault = _Fault(status, retry_after, count, chat_id, text)
        self._faults.setdefault(method.lower(), []).append(fault)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()
        self._late_answers.clear()

    def set_delay(self, method: str, seconds: float, *, after: bool = False) -> None:
        """Slow answers: wait before the method runs, or (`after=True`) run it at once and
        answer late, as a slow network does: the message is delivered even if the client
        gives up waiting, so a client that retries too early sends it twice."""
        (self._late_answers if after else self._delays)[method.lower()] = seconds

    def edit_text(self, user_id: int, message_id: int, text: str,
                  chat_id: int | None = None) -> Sent:
        """The user edits one of their messages: an `edited_message` update."""
        chat = self._chats.get(user_id if chat_id is None else chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}")
        msg = self._message(chat, message_id)
        if msg is None or msg["from_bot"]:
            raise ValueError(f"no user message {message_id} in chat {chat.info['id']}")
        msg["text"] = text
        msg["edit_date"] = int(self.clock())
        if entities := command_entities(text):
            msg["entities"] = entities
        else:
            msg.pop("entities", None)
        return Sent(self._enqueue("edited_message", _api(msg)), _api(msg), None)

    def push_update(self, kind: str, payload: JsonDict) -> int:
        """Any update as given (forged ones, channel posts, messages without `from`)."""
        return self._enqueue(kind, payload)

    def block(self, user_id: int) -> None:
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)


# --------------------------------------------------------------------------- module helpers


def _json_error(error: ApiError) -> web.Response:
    return web.json_response(error.envelope(), status=error.code)


def _api(msg: JsonDict, nested: bool = True) -> JsonDict:
    """Bot API view of a stored message: no bookkeeping keys (and no nested reply twice)."""
    out = {k: copy.deepcopy(v) for k, v in msg.items() if k not in _INTERNAL_KEYS}
    if not nested:
        out.pop("reply_to_message", None)
    return out


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    actions = [a for a in _INLINE_ACTIONS if a in button]
    if not actions:
        raise _bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in button and not re.match(r"(https?|tg)://\S+", str(button["url"])):
        raise _bad("BUTTON_URL_INVALID")


def _photo_sizes(stored: _StoredFile) -> list[JsonDict]:
    width, height = _image_size(stored.data)
    return [
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(stored.data),
        }
    ]


def _document(stored: _StoredFile) -> JsonDict:
    doc: JsonDict = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": stored.filename,
        "file_size": len(stored.data),
    }
    if stored.mime_type:
        doc["mime_type"] = stored.mime_type
    return doc


def _media(stored: _StoredFile, duration: int) -> JsonDict:
    """Voice, video and audio share these fields."""
    media: JsonDict = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "duration": duration,
        "file_size": len(stored.data),
    }
    if stored.mime_type:
        media["mime_type"] = stored.mime_type
    return media
