"""Filing a request as a resident, end to end through the emulator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.domain.tickets import Status
from storage import people
from storage import tickets as repo
from tests.harness import Harness, buttons, restart, start_harness, stop_harness
from tests.resident_steps import (
    CODE_RE,
    TEXT,
    add_role,
    current,
    file_via_bot,
    finish,
    onboard,
    ticket,
    to_description,
)

R = 6001
MAYOR = 6090


async def test_start_to_tracking_code_in_at_most_eight_steps(h: Harness) -> None:
    await add_role(h, MAYOR, "mayor")
    h.user(R, "زهرا")
    steps = 0
    replies = await h.send(R, "/start n_ISL01")
    steps += 1
    assert "۷۲ ساعت" in replies[0]["text"]
    consent = replies[-1]
    assert "شمارهٔ تلفن" in consent["text"] and "شناسهٔ تلگرام" in consent["text"]
    kind_msg = (await h.press(R, consent, "موافقم"))[-1]
    steps += 1
    assert "قائمیه" in kind_msg["text"]
    await h.press(R, kind_msg, "نیاز")
    steps += 1
    replies = await h.press(R, current(h, R, kind_msg), "مسکن")
    steps += 1
    assert "خانه بهزیستی به آن رسیدگی می‌کند" in current(h, R, kind_msg)["text"]
    ack = (await h.send(R, TEXT))[-1]
    steps += 1
    await h.press(R, ack, "تمام")
    steps += 1
    assert "📞 فرستادن شمارهٔ تلفنم" in h.keyboard(R)
    summary = (await h.send(R, "➡️ ادامه"))[-1]
    steps += 1
    done = (await h.press(R, summary, "فرستادن"))[-1]
    steps += 1
    assert steps <= 8
    match = CODE_RE.search(done["text"])
    assert match
    assert "ساعت" in done["text"] and "۱۴۰" in done["text"]   # Jalali, Persian digits
    assert "📝 درخواست جدید" in h.keyboard(R)                 # back to the main menu
    filed = await ticket(h, match.group(1))
    assert filed.status is Status.NEW and filed.text == TEXT
    async with h.deps.db.read() as conn:
        person = await people.get(conn, R)
    assert person is not None and person.consent_at is not None
    await h.settle()
    assert match.group(1) in h.messages(MAYOR)[-1]["text"]


async def test_new_without_consent_asks_first_then_neighbourhood(h: Harness) -> None:
    h.user(R)
    replies = await h.send(R, "📝 درخواست جدید")
    assert "موافق هستید" in replies[-1]["text"]
    replies = await h.press(R, replies[-1], "موافقم")
    assert "در کدام محله زندگی می‌کنید" in replies[0]["text"]
    replies = await h.send(R, "قائمیه")
    replies = await h.press(R, replies[-1], "قائمیه")
    assert "چه چیزی می‌خواهید بفرستید" in replies[-1]["text"]


async def test_attachments_phone_and_location(h: Harness) -> None:
    kind_msg = await onboard(h, R)
    await to_description(h, R, kind_msg, kind="شکایت", category="بهداشت")
    await h.do(R, "send_photo", data=b"\xff\xd8photo", caption="عکس دیوار نم‌زده اتاق")
    await h.do(R, "send_voice")
    replies = await h.do(R, "send_sticker")
    assert "استیکر" in replies[-1]["text"]
    replies = await h.do(R, "send_animation")
    assert "گیف" in replies[-1]["text"]
    await h.do(R, "send_document", b"%PDF", filename="nameh.pdf", mime_type="application/pdf")
    ack = (await h.send(R, "از دو ماه پیش بچه‌ها سرفه می‌کنند"))[-1]
    assert "۳ فایل" in ack["text"]
    await h.press(R, ack, "تمام")
    replies = await h.do(R, "send_contact", "+989120000000", own=False)
    assert "شمارهٔ خودتان" in replies[-1]["text"]
    replies = await h.do(R, "send_contact", "+989121234567")
    assert "شمارهٔ شما به این درخواست اضافه شد" in replies[0]["text"]
    assert "📞 فرستادن شمارهٔ تلفنم" not in h.keyboard(R)
    await h.do(R, "send_location", 35.56, 51.22)
    summary = (await h.send(R, "➡️ ادامه"))[-1]
    assert "۳ فایل پیوست شده" in summary["text"] and "+989121234567" in summary["text"]
    done = (await h.press(R, summary, "فرستادن"))[-1]
    code = CODE_RE.search(done["text"])
    assert code
    filed = await ticket(h, code.group(1))
    assert filed.phone == "+989121234567" and filed.lat == 35.56 and filed.lon == 51.22
    assert "عکس دیوار" in filed.text and "سرفه" in filed.text
    async with h.deps.db.read() as conn:
        files = await repo.attachments(conn, filed.id)
    assert [f.kind for f in files] == ["photo", "voice", "document"]


async def test_double_confirm_files_exactly_one_ticket(h: Harness) -> None:
    kind_msg = await onboard(h, R)
    await to_description(h, R, kind_msg)
    ack = (await h.send(R, TEXT))[-1]
    await h.press(R, ack, "تمام")
    summary = (await h.send(R, "➡️ ادامه"))[-1]
    data = dict((t, d) for t, d in buttons(summary))["✅ فرستادن"]
    first = await h.press_data(R, summary["message_id"], data)
    again = await h.press_data(R, summary["message_id"], data, force=True)
    assert CODE_RE.search(first[-1]["text"]) and again == []
    code = CODE_RE.search(first[-1]["text"]).group(1)  # type: ignore[union-attr]
    assert code in list(h.emu.callback_answers.values())[-1]["text"]
    async with h.deps.db.read() as conn:
        assert await repo.count_by_resident(conn, R) == 1


async def test_restart_mid_conversation_continues_where_they_were(h: Harness) -> None:
    kind_msg = await onboard(h, R)
    await to_description(h, R, kind_msg)
    ack = (await h.send(R, TEXT))[-1]
    await restart(h)
    done = await finish(h, R, ack)
    filed = await ticket(h, CODE_RE.search(done["text"]).group(1))  # type: ignore[union-attr]
    assert filed.text == TEXT


async def test_help_mid_form_continues_and_cancel_ends(h: Harness) -> None:
    kind_msg = await onboard(h, R)
    await to_description(h, R, kind_msg)
    replies = await h.send(R, "/help")
    assert "/status" in replies[-1]["text"]
    ack = (await h.send(R, TEXT))[-1]
    assert "دریافت شد" in ack["text"]
    replies = await h.send(R, "/cancel")
    assert "چیزی فرستاده نشد" in replies[-1]["text"]
    replies = await h.send(R, "یک متن دیگر")
    assert "متوجه نشدم" in replies[-1]["text"] or "درخواست جدید" in replies[-1]["text"]
    async with h.deps.db.read() as conn:
        assert await repo.count_by_resident(conn, R) == 0


async def test_cancel_button_and_wrong_input_at_button_steps(h: Harness) -> None:
    kind_msg = await onboard(h, R)
    replies = await h.send(R, "نیاز دارم")
    assert "دکمه‌های آخرین پیام" in replies[-1]["text"]
    replies = await h.press(R, kind_msg, "لغو")
    assert "متوقف شد" in replies[-1]["text"]


async def test_short_and_overlong_description(h: Harness) -> None:
    kind_msg = await onboard(h, R)
    await to_description(h, R, kind_msg)
    replies = await h.send(R, "آ" * 1200)
    assert "خیلی بلند" in replies[-1]["text"] and "۱۲۰۰" in replies[-1]["text"]
    ack = (await h.send(R, "کمک"))[-1]
    replies = await h.press(R, ack, "تمام")
    assert "کمی بیشتر" in replies[-1]["text"]
    ack = (await h.send(R, "سقف خانه ریخته است"))[-1]
    done = await finish(h, R, ack)
    assert CODE_RE.search(done["text"])


async def test_stale_button_from_earlier_step_does_not_act(h: Harness) -> None:
    kind_msg = await onboard(h, R)
    data = dict(buttons(kind_msg))["🙋 نیاز"]
    await to_description(h, R, kind_msg)
    replies = await h.press_data(R, kind_msg["message_id"], data, force=True)
    assert replies == []
    assert "مرحلهٔ قبل" in list(h.emu.callback_answers.values())[-1]["text"]
    ack = (await h.send(R, TEXT))[-1]     # the form is still at the description
    assert "دریافت شد" in ack["text"]


async def test_idle_form_times_out_with_a_message(h: Harness) -> None:
    kind_msg = await onboard(h, R)
    await to_description(h, R, kind_msg)
    h.clock.advance(timedelta(minutes=31))
    replies = await h.send(R, TEXT)
    assert "۳۰ دقیقه" in replies[-1]["text"] and "بسته شد" in replies[-1]["text"]
    async with h.deps.db.read() as conn:
        assert await repo.count_by_resident(conn, R) == 0


async def test_duplicate_in_same_category_can_be_added_as_follow_up(h: Harness) -> None:
    await onboard(h, R)
    await h.send(R, "/cancel")
    code = await file_via_bot(h, R)
    replies = await h.send(R, "/new")
    replies = await to_description(h, R, replies[-1])
    assert f"یک درخواست باز دارید: {code}" in replies[-1]["text"]
    replies = await h.press(R, replies[-1], "افزودن به")
    ack = (await h.send(R, "آب هنوز می‌ریزد"))[-1]
    replies = await h.press(R, ack, "تمام")
    assert f"به درخواست {code} اضافه شد" in replies[-1]["text"]
    first = await ticket(h, code)
    async with h.deps.db.read() as conn:
        assert await repo.count_by_resident(conn, R) == 1
        history = await repo.events(conn, first.id, public_only=True)
    assert history[-1].action == "resident_message" and history[-1].body == "آب هنوز می‌ریزد"
    # and "a new request" files a second one
    replies = await h.send(R, "/new")
    replies = await to_description(h, R, replies[-1])
    replies = await h.press(R, replies[-1], "درخواست جدید")
    ack = (await h.send(R, "درخواست دیگری برای مسکن دارم"))[-1]
    assert CODE_RE.search((await finish(h, R, ack))["text"])


async def test_too_many_open_requests_is_refused_politely(tmp_path: Path) -> None:
    h = await start_harness(tmp_path, max_open_tickets=1)
    try:
        await onboard(h, R)
        await h.send(R, "/cancel")
        await file_via_bot(h, R)
        replies = await h.send(R, "/new")
        assert "۱ درخواست باز دارید" in replies[-1]["text"]
    finally:
        await stop_harness(h)


async def test_flooding_gets_one_polite_slow_down(tmp_path: Path) -> None:
    h = await start_harness(tmp_path, flood_messages_per_minute=3)
    try:
        h.user(R)
        for _ in range(3):
            await h.send(R, "سلام")
        replies = await h.send(R, "سلام")
        assert "خیلی تند" in replies[-1]["text"]
        assert await h.send(R, "سلام") == []
        h.clock.advance(timedelta(minutes=1))
        assert await h.send(R, "سلام") != []
    finally:
        await stop_harness(h)
