"""The emulator, driven by a real PTB Bot/Application, must behave like the Bot API."""

from __future__ import annotations

import asyncio
import datetime as dtm
import struct
import time
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.sandbox.emulator import Emulator, EmuUser, parse_html

TOKEN = "123456:TEST"
UID = 1001
GROUP = -100123


class FakeClock:
    """Deterministic unix time for date/limit assertions."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def _started(emu: Emulator) -> Emulator:
    await emu.start(host="127.0.0.1", port=0)
    emu.add_user(EmuUser(id=UID, first_name="Zahra", language_code="fa"))
    emu.add_user(EmuUser(id=1002, first_name="Reza", username="reza"))
    emu.add_group(chat_id=GROUP, title="Welfare team")
    return emu


@pytest.fixture
async def emu(clock: FakeClock) -> AsyncIterator[Emulator]:
    em = await _started(Emulator(token=TOKEN, bot_username="mahalleyar_bot", clock=clock))
    yield em
    await em.stop()


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    b = Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url)
    async with b:
        yield b


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def test_get_me_and_port(emu: Emulator, bot: Bot) -> None:
    assert emu.port > 0 and str(emu.port) in emu.base_url
    me = await bot.get_me()
    assert me.id == emu.bot_id == 123456
    assert me.username == "mahalleyar_bot" and me.is_bot
    assert emu.requests[0][0] == "getMe"


async def test_send_edit_delete(emu: Emulator, bot: Bot, clock: FakeClock) -> None:
    m1 = await bot.send_message(UID, "سلام", link_preview_options=None)
    m2 = await bot.send_message(UID, "second", disable_web_page_preview=True)
    assert (m1.message_id, m2.message_id) == (1, 2)
    assert m1.date.timestamp() == int(clock.now)
    assert m1.chat.id == UID and m1.from_user is not None and m1.from_user.is_bot

    clock.now += 5
    edited = await bot.edit_message_text("ویرایش", chat_id=UID, message_id=m1.message_id)
    assert isinstance(edited, object) and emu.chat(UID)[0]["text"] == "ویرایش"
    stored = emu.chat(UID)[0]
    assert stored["edits"] == 1 and stored["edit_date"] == int(clock.now)

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("ویرایش", chat_id=UID, message_id=m1.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=UID, message_id=99)

    assert await bot.delete_message(UID, m2.message_id)
    assert emu.chat(UID)[1]["deleted"] is True
    assert [m["message_id"] for m in emu.bot_messages(UID)] == [1]
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(UID, m2.message_id)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hi")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(UID, "   ")


async def test_text_and_caption_limits(emu: Emulator, bot: Bot) -> None:
    ok = await bot.send_message(UID, "ا" * 4096)
    assert len(ok.text or "") == 4096
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(UID, "a" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(UID, _png(2, 2), caption="c" * 1025)
    # The entity markup does not count, only the parsed text.
    await bot.send_message(UID, "<b>" + "a" * 4096 + "</b>", parse_mode=ParseMode.HTML)


async def test_callback_data_limit_checks_every_button(emu: Emulator, bot: Bot) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="ب" * 32)]])
    await bot.send_message(UID, "fits: 64 bytes", reply_markup=ok)
    bad = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("a", callback_data="a")],
            [
                InlineKeyboardButton("b", url="https://example.org"),
                InlineKeyboardButton("c", callback_data="x" * 65),
            ],
        ]
    )
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(UID, "too long", reply_markup=bad)
    assert len(emu.bot_messages(UID)) == 1


async def test_html_parse_mode_utf16_entities(emu: Emulator, bot: Bot) -> None:
    html = (
        '😀 <b>سلام <i>دنیا</i></b> <a href="https://t.me/x?a=1&amp;b=2">link</a> '
        '&lt;tag&gt; <tg-spoiler>s</tg-spoiler> <pre><code class="language-py">x=1</code></pre>'
    )
    msg = await bot.send_message(UID, html, parse_mode=ParseMode.HTML)
    assert msg.text == "😀 سلام دنیا link <tag> s x=1"
    kinds = [(e.type, e.offset, e.length) for e in msg.entities]
    # 😀 is two UTF-16 units, so "سلام" starts at offset 3.
    assert kinds == [
        ("bold", 3, 9),
        ("italic", 8, 4),
        ("text_link", 13, 4),
        ("spoiler", 24, 1),
        ("pre", 26, 3),
    ]
    assert msg.entities[2].url == "https://t.me/x?a=1&b=2"
    assert msg.entities[4].language == "py"
    assert msg.parse_entity(msg.entities[1]) == "دنیا"
    for broken in ("<b>open", "<b>x</i>", "<br>", "a < b"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(UID, broken, parse_mode=ParseMode.HTML)
    text, ents = parse_html("  <b> padded </b>  ")
    assert (text, ents) == ("   padded   ", [{"type": "bold", "offset": 2, "length": 8}])
    trimmed = await bot.send_message(UID, "  <b> padded </b>  ", parse_mode=ParseMode.HTML)
    assert trimmed.text == "padded" and trimmed.entities[0].length == 6


async def test_photo_upload_getfile_download_roundtrip(emu: Emulator, bot: Bot) -> None:
    data = _png(40, 30)
    msg = await bot.send_photo(UID, data, caption="<i>عکس</i>", parse_mode="HTML", filename="p.png")
    size = msg.photo[-1]
    assert (size.width, size.height) == (40, 30)
    assert msg.caption == "عکس" and msg.caption_entities[0].type == "italic"
    assert emu.uploaded(size.file_id) == (data, "p.png")
    tg_file = await bot.get_file(size.file_id)
    assert tg_file.file_path is not None and tg_file.file_path.startswith(emu.base_file_url)
    assert bytes(await tg_file.download_as_bytearray()) == data

    again = await bot.send_photo(GROUP, size.file_id)
    assert again.photo[-1].file_unique_id == size.file_unique_id
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(UID, "no-such-file-id")

    doc = await bot.send_document(UID, b"%PDF-1.4 fake", filename="report.pdf")
    assert doc.document is not None and doc.document.file_name == "report.pdf"
    assert doc.document.mime_type == "application/pdf"

    sent = emu.send_photo(UID, data=data, caption="from user")
    assert sent.message is not None
    user_file = await bot.get_file(sent.message["photo"][-1]["file_id"])
    assert bytes(await user_file.download_as_bytearray()) == data


async def test_set_my_commands_per_scope_and_language(emu: Emulator, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Start")])
    await bot.set_my_commands(
        [BotCommand("start", "شروع"), BotCommand("help", "راهنما")], language_code="fa"
    )
    await bot.set_my_commands(
        [BotCommand("new", "New request")], scope=BotCommandScopeAllPrivateChats()
    )
    assert [c["command"] for c in emu.commands()] == ["start"]
    assert [c["description"] for c in emu.commands(language_code="fa")] == ["شروع", "راهنما"]
    assert emu.commands(scope="all_private_chats")[0]["command"] == "new"
    got = await bot.get_my_commands(language_code="fa")
    assert [c.command for c in got] == ["start", "help"]
    assert await bot.get_my_commands(language_code="en") == ()
    await bot.delete_my_commands(language_code="fa")
    assert emu.commands(language_code="fa") == []
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Cmd", "x")])


async def test_reply_keyboard_tracking(emu: Emulator, bot: Bot) -> None:
    assert emu.current_keyboard(UID) is None
    kb = ReplyKeyboardMarkup(
        [[KeyboardButton("📞 Share", request_contact=True)], ["Cancel"]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )
    await bot.send_message(UID, "your phone?", reply_markup=kb)
    shown = emu.current_keyboard(UID)
    assert shown is not None and shown["keyboard"][1][0]["text"] == "Cancel"
    assert "reply_markup" not in emu.bot_messages(UID)[-1]  # only inline markup is on messages
    emu.send_contact(UID, "+989121234567")
    assert emu.current_keyboard(UID) is None  # one-time keyboard used

    await bot.send_message(UID, "menu", reply_markup=ReplyKeyboardMarkup([["A", "B"]]))
    emu.send_text(UID, "A")
    assert emu.current_keyboard(UID) is not None  # persistent keyboard stays
    await bot.send_message(UID, "bye", reply_markup=ReplyKeyboardRemove())
    assert emu.current_keyboard(UID) is None


async def test_injected_faults_map_to_ptb_errors(emu: Emulator, bot: Bot) -> None:
    emu.inject_fault("sendMessage", status=429, retry_after=3, count=1)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(UID, "x")
    assert _seconds(info.value.retry_after) == 3
    await bot.send_message(UID, "after retry")  # count=1 consumed

    emu.inject_fault("sendMessage", status=500, chat_id=GROUP)
    await bot.send_message(UID, "other chat unaffected")
    with pytest.raises(NetworkError):
        await bot.send_message(GROUP, "x")
    emu.inject_fault("getMe", status=502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
            await bot.get_me()
    await bot.get_me()

    emu.block(UID)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(UID, "x")
    await bot.send_message(GROUP, "groups unaffected")
    emu.unblock(UID)
    await bot.send_message(UID, "welcome back")
    texts = [m["text"] for m in emu.bot_messages(UID)]
    assert texts == ["after retry", "other chat unaffected", "welcome back"]
    assert [r[0] for r in emu.requests].count("sendMessage") == 7


async def test_delay_provokes_client_timeout(emu: Emulator, bot: Bot) -> None:
    emu.set_delay("sendMessage", 0.4)
    with pytest.raises(TimedOut):
        await bot.send_message(UID, "slow", read_timeout=0.1)
    # Like Telegram, the message may still land after the client gave up.
    msg = await emu.wait_for_message(UID, timeout=2)
    assert msg["text"] == "slow"


async def test_enforce_limits_private_group_honest_retry_after(clock: FakeClock) -> None:
    em = await _started(Emulator(token=TOKEN, clock=clock, enforce_limits=True))
    try:
        async with Bot(TOKEN, base_url=em.base_url) as b:
            await b.send_message(UID, "one")
            clock.now += 0.3
            with pytest.raises(RetryAfter) as info:
                await b.send_message(UID, "two")
            assert _seconds(info.value.retry_after) == 1
            await b.send_message(1002, "another chat is fine")
            clock.now += 0.8
            await b.send_message(UID, "two, later")

            clock.now += 10
            for i in range(20):
                await b.send_message(GROUP, f"g{i}")
                clock.now += 1.5  # 20 sends within 30 s
            with pytest.raises(RetryAfter) as info:
                await b.send_message(GROUP, "21st")
            # The oldest send was 30 s ago, so it leaves the minute window in 30 s.
            assert _seconds(info.value.retry_after) == 30

            clock.now += 120
            for uid in range(2000, 2031):
                em.add_user(EmuUser(id=uid, first_name=f"u{uid}"))
            for uid in range(2000, 2030):
                await b.send_message(uid, "broadcast")
            with pytest.raises(RetryAfter) as info:  # the 31st within one second overall
                await b.send_message(2030, "broadcast")
            assert _seconds(info.value.retry_after) == 1
        assert [m["text"] for m in em.bot_messages(UID)] == ["one", "two, later"]
    finally:
        await em.stop()


async def test_get_updates_offset_limit_and_parsing(emu: Emulator, bot: Bot) -> None:
    first = emu.send_text(UID, "/start n_ISL01")
    emu.send_location(UID, 35.55, 51.23)
    emu.send_contact(UID, "+989121234567")
    emu.send_voice(UID, duration=4)
    emu.send_sticker(UID)
    emu.send_animation(UID)
    emu.send_document(UID, b"doc", filename="a.pdf", mime_type="application/pdf")
    reply = emu.send_text(
        UID, "reply", reply_to=first.message["message_id"] if first.message else None
    )

    updates = await bot.get_updates(timeout=0, limit=2)
    assert [u.update_id for u in updates] == [first.update_id, first.update_id + 1]
    start = updates[0].message
    assert start is not None and start.text == "/start n_ISL01"
    assert start.entities[0].type == "bot_command" and start.entities[0].length == 6
    assert start.from_user is not None and start.from_user.language_code == "fa"
    assert updates[1].message is not None and updates[1].message.location is not None

    rest = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert rest[0].message is not None and rest[0].message.contact is not None
    assert rest[0].message.contact.user_id == UID
    assert rest[1].message is not None and rest[1].message.voice is not None
    assert rest[2].message is not None and rest[2].message.sticker is not None
    assert rest[3].message is not None and rest[3].message.animation is not None
    assert rest[4].message is not None and rest[4].message.document is not None
    last = rest[-1].message
    assert rest[-1].update_id == reply.update_id and last is not None
    assert last.reply_to_message is not None and last.reply_to_message.text == "/start n_ISL01"
    # Confirmed updates are dropped.
    assert await bot.get_updates(offset=reply.update_id + 1, timeout=0) == ()
    assert emu.pending_updates() == []


async def test_long_poll_wakes_immediately(emu: Emulator, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()
    started = time.perf_counter()
    emu.send_text(UID, "hello")
    updates = await asyncio.wait_for(poll, 2)
    latency = time.perf_counter() - started
    assert latency < 0.5
    assert updates[0].message is not None and updates[0].message.text == "hello"


async def test_newer_long_poll_terminates_older_one(emu: Emulator, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    # A second bot instance (own HTTP client) starts polling the same token.
    async with aiohttp.ClientSession() as http:
        second = asyncio.create_task(
            http.post(f"{emu.base_url}{TOKEN}/getUpdates", data={"timeout": "10"})
        )
        with pytest.raises(Conflict):
            await asyncio.wait_for(first, 2)
        emu.send_text(UID, "hi")
        resp = await asyncio.wait_for(second, 2)
        assert len((await resp.json())["result"]) == 1


async def test_application_polling_command_and_callback(emu: Emulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        args = " ".join(context.args or [])
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("تایید", callback_data="ok:1")]])
        await update.message.reply_text(
            f"<b>start</b> {args}", parse_mode=ParseMode.HTML, do_quote=True, reply_markup=markup
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("ثبت شد", show_alert=True)
        await query.edit_message_text(f"pressed {query.data}")

    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        await app.start()
        try:
            sent = emu.send_text(UID, "/start n_ISL01")
            msg = await emu.wait_for_message(UID, timeout=5)
            assert msg["text"] == "start n_ISL01"
            assert msg["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
            assert sent.message is not None
            assert msg["reply_to_message"]["message_id"] == sent.message["message_id"]

            with pytest.raises(ValueError):
                emu.press(UID, msg["message_id"], "forged")
            press = emu.press(UID, msg["message_id"], "ok:1")
            edited = await emu.wait_for_message(
                UID, predicate=lambda m: m["text"] == "pressed ok:1", timeout=5
            )
            assert "reply_markup" not in edited and edited["edits"] == 1
            assert press.callback_query_id is not None
            answer = emu.callback_answers[press.callback_query_id]
            assert answer["text"] == "ثبت شد" and answer["show_alert"] is True
        finally:
            await app.updater.stop()
            await app.stop()


async def test_subscribe_events_and_reply_parameters(emu: Emulator, bot: Bot) -> None:
    events = emu.subscribe()
    user = emu.send_text(UID, "question")
    assert user.message is not None
    answer = await bot.send_message(
        UID, "answer", reply_parameters=ReplyParameters(user.message["message_id"])
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "question"
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(UID, "x", reply_to_message_id=77)
    await bot.edit_message_text("answer!", chat_id=UID, message_id=answer.message_id)
    await bot.delete_message(UID, answer.message_id)
    kinds = [events.get_nowait() for _ in range(events.qsize())]
    assert [(e["type"], e["message"]["from_bot"]) for e in kinds] == [
        ("message", False),
        ("message", True),
        ("edit", True),
        ("delete", True),
    ]
    emu.unsubscribe(events)


async def test_http_envelopes_and_body_encodings(emu: Emulator, bot: Bot) -> None:
    base = f"http://127.0.0.1:{emu.port}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/bot999:WRONG/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{base}/bot{TOKEN}/noSuchMethod") as resp:
            assert resp.status == 404
            assert (await resp.json())["description"] == "Not Found"
        async with http.post(
            f"{base}/bot{TOKEN}/sendMessage", json={"chat_id": UID, "text": "json body"}
        ) as resp:
            assert (await resp.json())["result"]["text"] == "json body"
        async with http.get(
            f"{base}/bot{TOKEN}/sendMessage", params={"chat_id": str(UID), "text": "123"}
        ) as resp:
            assert (await resp.json())["result"]["text"] == "123"
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=emu.base_url) as wrong:
            await wrong.get_me()
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_voice_video_audio_location_resend_by_file_id(emu: Emulator, bot: Bot) -> None:
    voice = emu.send_voice(UID, data=b"OggS-voice", duration=4).message
    video = emu.send_video(UID, data=b"mp4-video", caption="ویدیو").message
    audio = emu.send_audio(UID, data=b"ID3-audio", filename="song.mp3").message
    assert voice and video and audio
    got_voice = await bot.send_voice(GROUP, voice["voice"]["file_id"], caption="صدا")
    assert got_voice.voice is not None and got_voice.caption == "صدا"
    assert got_voice.voice.file_unique_id == voice["voice"]["file_unique_id"]
    got_video = await bot.send_video(GROUP, video["video"]["file_id"])
    assert got_video.video is not None and got_video.video.file_id == video["video"]["file_id"]
    got_audio = await bot.send_audio(GROUP, audio["audio"]["file_id"])
    assert got_audio.audio is not None and got_audio.audio.file_name == "song.mp3"
    assert bytes(await (await bot.get_file(got_audio.audio.file_id))
                 .download_as_bytearray()) == b"ID3-audio"
    uploaded = await bot.send_voice(UID, b"OggS-new", duration=2)
    assert uploaded.voice is not None and emu.uploaded(uploaded.voice.file_id)[0] == b"OggS-new"
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_voice(UID, "no-such-file-id")
    photo = emu.send_photo(UID, data=_png(2, 2)).message
    assert photo
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type Photo as Voice"):
        await bot.send_voice(UID, photo["photo"][-1]["file_id"])

    place = await bot.send_location(GROUP, latitude=35.56, longitude=51.22)
    assert place.location is not None
    assert (place.location.latitude, place.location.longitude) == (35.56, 51.22)
    stored = emu.last_bot_message(GROUP)
    assert stored is not None and stored["location"] == {"latitude": 35.56, "longitude": 51.22}
    assert [m for m, _ in emu.requests][-1] == "sendLocation"
    with pytest.raises(BadRequest, match=r"(?i)wrong location"):
        await bot.send_location(GROUP, latitude=95.0, longitude=0.0)
    emu.block(UID)
    with pytest.raises(Forbidden):
        await bot.send_location(UID, latitude=1.0, longitude=2.0)
    emu.unblock(UID)
