"""The first useful bot: /start, /help, /language, unknown input, stickers, stale buttons."""

from __future__ import annotations

from tests.harness import Harness, buttons

RESIDENT = 5001


async def test_start_welcomes_in_persian_with_menu(h: Harness) -> None:
    h.user(RESIDENT, "زهرا")
    replies = await h.send(RESIDENT, "/start")
    assert len(replies) == 1            # welcome with the menu (consent comes with «New request»)
    text = replies[0]["text"]
    assert "زهرا" in text
    assert "۷۲ ساعت" in text            # the 72-hour promise, in Persian digits
    assert "محله" in text
    labels = h.keyboard(RESIDENT)
    assert "📝 درخواست جدید" in labels


async def test_help_lists_resident_commands(h: Harness) -> None:
    h.user(RESIDENT)
    replies = await h.send(RESIDENT, "/help")
    assert "/status" in replies[0]["text"]
    assert "/queue" not in replies[0]["text"]   # staff commands only for staff


async def test_language_switch_to_english_and_back(h: Harness) -> None:
    h.user(RESIDENT)
    menu = (await h.send(RESIDENT, "/language"))[0]
    assert [t for t, _ in buttons(menu)] == ["فارسی", "English"]
    replies = await h.press(RESIDENT, menu, "English")
    assert h.emu.chat(RESIDENT)[-2]["text"] == "Language set to English."
    assert replies and "📝 New request" in h.keyboard(RESIDENT)
    start = await h.send(RESIDENT, "/start")
    assert "72 hours" in start[0]["text"]
    menu = (await h.send(RESIDENT, "/language"))[0]
    await h.press(RESIDENT, menu, "فارسی")
    start = await h.send(RESIDENT, "/start")
    assert "۷۲ ساعت" in start[0]["text"]


async def test_telegram_language_is_used_until_the_user_chooses(h: Harness) -> None:
    h.user(RESIDENT, "Sam", language_code="en")
    start = await h.send(RESIDENT, "/start")
    assert "72 hours" in start[0]["text"]
    h.user(RESIDENT + 1, "Ali", language_code="de")
    start = await h.send(RESIDENT + 1, "/start")
    assert "۷۲ ساعت" in start[0]["text"]


async def test_unknown_command_and_text_get_help_and_menu(h: Harness) -> None:
    h.user(RESIDENT)
    reply = (await h.send(RESIDENT, "/frobnicate"))[0]
    assert "/help" in reply["text"]
    assert h.keyboard(RESIDENT)
    reply = (await h.send(RESIDENT, "سلام"))[0]
    assert "درخواست جدید" in reply["text"]


async def test_sticker_gets_a_clear_persian_message(h: Harness) -> None:
    h.user(RESIDENT)
    replies = await h.do(RESIDENT, "send_sticker")
    assert len(replies) == 1
    assert "متن" in replies[0]["text"]


async def test_stale_button_is_answered_not_acted_on(h: Harness) -> None:
    h.user(RESIDENT)
    menu = (await h.send(RESIDENT, "/language"))[0]
    replies = await h.press_data(RESIDENT, menu["message_id"], "ticket:take:999", force=True)
    answers = list(h.emu.callback_answers.values())
    assert "منقضی" in answers[-1]["text"]
    assert "منو" in replies[-1]["text"]
    forged = await h.press_data(RESIDENT, menu["message_id"], "lang:set:xx", force=True)
    assert forged == []  # nothing changed, only a polite answer
    assert "منقضی" in list(h.emu.callback_answers.values())[-1]["text"]


async def test_commands_menu_in_persian_and_english(h: Harness) -> None:
    fa = {c["command"]: c["description"] for c in h.emu.commands()}
    en = {c["command"]: c["description"] for c in h.emu.commands(language_code="en")}
    assert fa["new"] != en["new"]
    assert en["new"] == "Send a new request"
    assert "درخواست" in fa["new"]


async def test_repeated_update_is_processed_once(h: Harness) -> None:
    from storage import updates

    h.user(RESIDENT)
    await h.send(RESIDENT, "/start")
    async with h.deps.db.tx() as conn:
        assert not await updates.claim(conn, 1, h.clock.now())
