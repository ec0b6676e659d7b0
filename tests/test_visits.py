"""Field visits end to end through the emulator: a mayor files three requests at a meeting
(voice, photo, no phone) that go to two houses, hands out receipts (PNG with a QR code that
decodes to the claim link; all of them as a PDF), residents claim them (right and wrong
digits, the lock, the filer's one-time link), and messages for the resident reach the filer
until the claim. Persian texts on purpose: the tests read what the people read."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import numpy as np
from PIL import Image

from bot.domain.visits import digits_match, normalize_mobile, parse_time
from bot.ui.buttons import VisitPlace
from storage import places
from storage import visits as visits_repo
from tests.harness import Harness, Msg, buttons, restart
from tests.resident_steps import ticket
from tests.staff_helpers import MAYOR, OTHER_HOUSE, STAFF, add_role, team, texts

TITLE = "نشست صمیمی مسجد جامع"
CODE_RE = re.compile(r"کد پیگیری: ([A-Z0-9]{6})")
LINK = "https://t.me/mahalleyar_bot?start=c_{code}"


def decode_qr(png: bytes) -> str:
    """OpenCV's QR decoders (the ArUco-based one first: the classic one misses about one
    code in 200 of these receipts)."""
    image = np.array(Image.open(io.BytesIO(png)).convert("L"))
    for detector in (cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector()):
        text, _, _ = detector.detectAndDecode(image)
        if text:
            return str(text)
    return ""


async def start_visit(h: Harness, uid: int = MAYOR, title: str = TITLE) -> Msg:
    replies = await h.send(uid, "/visit")
    assert "عنوان کوتاهی" in replies[-1]["text"], texts(replies)
    replies = await h.send(uid, title)
    replies = await h.press(uid, replies[-1], "همین حالا")
    assert f"بازدید میدانی «{title}»" in replies[-1]["text"]
    return replies[-1]


async def file_for(h: Harness, uid: int, ready: Msg, name: str, phone: str | None,
                   category: str, *, text: str | None = None, voice: bool = False,
                   photo: bool = False) -> tuple[str, list[Msg]]:
    """One person's request at the open visit; returns its code and the bot's answers."""
    replies = await h.press(uid, ready, "درخواست برای یک نفر")
    assert "نام" in replies[-1]["text"]
    replies = await h.send(uid, name)
    if phone is None:
        replies = await h.press(uid, replies[-1], "بدون تلفن")
    else:
        replies = await h.send(uid, phone)
    replies = await h.press(uid, replies[-1], "نیاز")
    replies = await h.press(uid, replies[-1], category)
    assert "شرح دهید" in replies[-1]["text"]
    if voice:
        replies = await h.do(uid, "send_voice")
    if text:
        replies = await h.send(uid, text)
    if photo:
        replies = await h.do(uid, "send_photo", b"\xff\xd8photo")
    filed = await h.press(uid, replies[-1], "ثبت درخواست")
    match = CODE_RE.search(texts(filed))
    assert match, texts(filed)
    return match.group(1), filed


def ready_in(messages: list[Msg]) -> Msg:
    """The receipt with the «next person» button (a notification about the request just
    filed may arrive right after it, in the same chat)."""
    return next(m for m in reversed(messages)
                if any("درخواست برای یک نفر" in text for text, _ in buttons(m)))


def receipt_of(h: Harness, messages: list[Msg]) -> bytes:
    photo = next(m for m in messages if m.get("photo"))
    return h.emu.uploaded(photo["photo"][-1]["file_id"])[0]


async def test_visit_files_three_requests_with_receipts_and_they_are_claimed(h: Harness
                                                                              ) -> None:
    await team(h)
    ready = await start_visit(h)

    code_a, filed_a = await file_for(h, MAYOR, ready, "علی رضایی", "۰۹۱۲ ۳۴۵ ۶۷۸۹", "مسکن",
                                     voice=True)
    code_b, filed_b = await file_for(h, MAYOR, ready_in(filed_a), "مریم احمدی", "+98 935 111 2233",
                                     "وام", text="برای خرید چرخ خیاطی وام می‌خواهد",
                                     photo=True)
    code_c, filed_c = await file_for(h, MAYOR, ready_in(filed_b), "حسن کریمی", None, "مسکن",
                                     text="دیوار حیاط خانه ترک برداشته است")
    assert "/handover " + code_c in texts(filed_c)
    await h.settle()

    # Each request is an ordinary ticket: routed to its house, announced to its staff.
    a, b, c = [await ticket(h, code) for code in (code_a, code_b, code_c)]
    assert a.phone == "09123456789" and b.phone == "09351112233" and c.phone is None
    async with h.deps.db.read() as conn:
        welfare = await places.house_by_code(conn, "welfare")
        relief = await places.house_by_code(conn, "relief")
        atts = await __import__("storage.tickets", fromlist=["x"]).attachments(conn, b.id)
    assert welfare and relief
    assert (a.house_id, b.house_id, c.house_id) == (welfare.id, relief.id, welfare.id)
    assert a.due_at - a.created_at == timedelta(hours=72)
    assert [x.kind for x in atts] == ["photo"]
    staff_text, relief_text = texts(h.messages(STAFF)), texts(h.messages(OTHER_HOUSE))
    assert code_a in staff_text and code_c in staff_text and code_b not in staff_text
    assert code_b in relief_text and code_a not in relief_text

    # Receipts: phone-sized PNGs whose QR code is the claim link.
    for code, filed in ((code_a, filed_a), (code_b, filed_b), (code_c, filed_c)):
        png = receipt_of(h, filed)
        assert png.startswith(b"\x89PNG")
        assert Image.open(io.BytesIO(png)).size == (720, 1280)
        assert decode_qr(png) == LINK.format(code=code)

    # The end: a summary and every receipt in one PDF, a page each.
    end = await h.send(MAYOR, "/visit end")
    summary = texts(end)
    assert "۳ درخواست ثبت شد" in summary and code_a in summary and "بدون تلفن" in summary
    assert "بهزیستی ۲" in summary and "امداد ۱" in summary
    pdf = h.emu.uploaded(next(m for m in end if m.get("document"))["document"]["file_id"])[0]
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 3
    assert "بازی ندارید" in texts(await h.send(MAYOR, "/visit end"))

    # Before the claim the resident's messages go to the filer, marked.
    await h.send(STAFF, f"/reply {code_a} کارشناس فردا به منزل شما می‌آید")
    await h.settle()
    to_filer = h.last(MAYOR)["text"]
    assert to_filer.startswith("📌 برای ساکن: علی رضایی") and "فردا به منزل" in to_filer

    # Claiming by the QR link: wrong digits, then the right ones.
    resident = h.user(8101, "علی")
    asked = texts(await h.send(resident, f"/start c_{code_a}"))
    assert "چهار رقم آخر" in asked
    assert "۲ بار دیگر" in texts(await h.send(resident, "0000"))
    assert f"درخواست {code_a} اکنون به نام شماست" in texts(await h.send(resident, "۶۷۸۹"))
    assert (await ticket(h, code_a)).resident_id == resident
    await h.settle()
    assert f"علی رضایی اکنون درخواست {code_a} را در تلگرام پیگیری می‌کند" in h.last(MAYOR)["text"]
    before = len(h.messages(MAYOR))
    await h.send(STAFF, f"/reply {code_a} کارشناس امروز ساعت ۵ می‌آید")
    await h.settle()
    assert "امروز ساعت ۵" in h.last(resident)["text"]
    assert "برای ساکن" not in h.last(resident)["text"]
    assert len(h.messages(MAYOR)) == before
    assert code_a in texts(await h.send(resident, "/my"))
    assert "پیش‌تر دریافت شده" in texts(await h.send(h.user(8109), f"/claim {code_a} 6789"))

    # Three wrong answers lock the code for a day, even for the right digits.
    other = h.user(8102, "مریم")
    assert "۲ بار دیگر" in texts(await h.send(other, f"/claim {code_b} 1111"))
    assert "۱ بار دیگر" in texts(await h.send(other, f"/claim {code_b} 1112"))
    assert "تا یک روز بسته شد" in texts(await h.send(other, f"/claim {code_b} 1113"))
    assert "تا یک روز بسته است" in texts(await h.send(other, f"/claim {code_b} 2233"))
    h.clock.advance(timedelta(hours=25))
    assert "به نام شماست" in texts(await h.send(other, f"/claim {code_b} 2233"))

    # No phone: only the filer's one-time link claims it.
    third = h.user(8103, "حسن")
    assert "شماره تلفن ندارد" in texts(await h.send(third, f"/start c_{code_c}"))
    assert "فقط کسی که" in texts(await h.send(OTHER_HOUSE, f"/handover {code_c}"))
    link = texts(await h.send(MAYOR, f"/handover {code_c}"))
    token = re.search(r"start=h_([A-Za-z0-9_-]+)", link)
    assert token and "حسن کریمی" in link
    assert "به نام شماست" in texts(await h.send(third, f"/start h_{token.group(1)}"))
    assert "دیگر معتبر نیست" in texts(await h.send(h.user(8104), f"/start h_{token.group(1)}"))
    assert (await ticket(h, code_c)).resident_id == third


async def test_channel_is_visible_on_card_stats_and_export(h: Harness) -> None:
    await team(h)
    ready = await start_visit(h)
    code, _ = await file_for(h, MAYOR, ready, "زهرا موسوی", "09121112233", "مسکن",
                             text="بخاری خانه خراب است و زمستان نزدیک است")
    await h.settle()
    card = texts(await h.send(STAFF, f"/show {code}"))
    assert f"بازدید میدانی: {TITLE} · برای زهرا موسوی" in card
    assert "(شهردار) · ثبت" in card or "شهردار" in card
    assert "از بازدیدهای میدانی ۱" in texts(await h.send(STAFF, "/stats"))
    sent = (await h.send(STAFF, "/export"))[-1]
    rows = list(csv.reader(io.StringIO(h.emu.uploaded(sent["document"]["file_id"])[0]
                                       .decode("utf-8-sig"))))
    column = rows[0].index("بازدید میدانی")
    assert rows[1][0] == code and rows[1][column] == TITLE

    # A question for the resident reaches the filer (visit ended or not); the filer's
    # Telegram reply is the resident's answer on the ticket.
    await h.send(MAYOR, "/visit end")
    await h.send(STAFF, f"/ask {code} از چه زمانی خراب است؟")
    await h.settle()
    question = h.last(MAYOR)
    assert question["text"].startswith("📌 برای ساکن: زهرا موسوی")
    await h.send(MAYOR, "از هفته پیش", reply_to=question["message_id"])
    await h.settle()
    assert "از هفته پیش" in texts(h.messages(STAFF))
    assert (await ticket(h, code)).status.value == "in_progress"


async def test_scope_roles_phone_check_and_restart(h: Harness) -> None:
    await team(h)
    # A resident cannot hold a visit; a mayor only in their own neighbourhoods.
    assert "برای شهرداران محله" in texts(await h.send(h.user(8201), "/visit"))
    assert "در حوزهٔ شما نیست" in texts(await h.send(MAYOR, "/visit ISL02"))
    two = 8202
    await add_role(h, two, "mayor", None, "neighbourhood", "ISL01")
    await add_role(h, two, "mayor", None, "neighbourhood", "ISL03")
    asked = (await h.send(two, "/visit"))[-1]
    assert "کدام محله" in asked["text"]
    async with h.deps.db.read() as conn:
        vavan = await places.neighbourhood_by_code(conn, "ISL02")
    assert vavan
    forged = VisitPlace(vavan.id).pack()
    await h.press_data(two, asked["message_id"], forged, force=True)
    async with h.deps.db.read() as conn:
        visit = await visits_repo.open_visit(conn, two)
    assert visit is not None and visit.neighbourhood_id is None
    assert "عنوان کوتاهی" in texts(await h.press(two, asked, "زرافشان"))

    # A bad phone is asked again; the form survives a restart at its step.
    ready = await start_visit(h)
    await h.press(MAYOR, ready, "درخواست برای یک نفر")
    await h.send(MAYOR, "رضا")
    assert "شمارهٔ همراه نیست" in texts(await h.send(MAYOR, "12345"))
    await restart(h)
    replies = await h.send(MAYOR, "09121234567")
    assert "چه نوع درخواستی" in replies[-1]["text"]
    assert "دکمه‌های بالا" in texts(await h.send(MAYOR, "سلام"))
    replies = await h.press(MAYOR, h.last(MAYOR), "نیاز")
    resumed = (await h.send(MAYOR, "/visit"))[-1]            # where it was: the categories
    assert "دربارهٔ چیست" in resumed["text"]
    assert "شرح دهید" in texts(await h.press(MAYOR, resumed, "مسکن"))
    await h.send(MAYOR, "لوله آب ترکیده است")
    resumed = (await h.send(MAYOR, "/visit"))[-1]
    code = CODE_RE.search(texts(await h.press(MAYOR, resumed, "ثبت درخواست")))
    assert code

    # Requests filed for others do not count towards the filer's own open-requests limit.
    async with h.deps.db.read() as conn:
        from storage import tickets as tickets_repo

        assert await tickets_repo.count_by_resident(conn, MAYOR, open_only=True) == 0
        assert await tickets_repo.count_by_resident(conn, MAYOR) == 1


def test_rules() -> None:
    assert normalize_mobile("۰۹۱۲-۳۴۵-۶۷۸۹") == "09123456789"
    assert normalize_mobile("+989123456789") == "09123456789"
    assert normalize_mobile("00989123456789") == "09123456789"
    assert normalize_mobile("9123456789") == "09123456789"
    assert normalize_mobile("02112345678") is None and normalize_mobile("0912") is None
    assert digits_match("09123456789", "۶۷۸۹") and not digits_match("09123456789", "678")
    now = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    at: Any = parse_time("10:30", now, "Asia/Tehran")
    assert at is not None and (at.hour, at.minute) == (10, 30)
    day: Any = parse_time("۱۴۰۵/۰۹/۰۹ ۱۰:۳۰", now, "Asia/Tehran")
    assert day is not None and (day.year, day.month, day.day) == (2026, 11, 30)
    assert parse_time("فردا", now, "Asia/Tehran") is None


def test_receipt_qr_codes_decode_for_many_codes() -> None:
    import random

    from bot.ui.receipts import _qr, claim_link

    rng = random.Random(17)
    for _ in range(12):
        code = "".join(rng.choice("ACDEFHJKMNPRTWXY3479") for _ in range(6))
        page = Image.new("RGB", (720, 1280), "white")
        qr = _qr(claim_link("mahalleyar_bot", code), 360)
        page.paste(qr, ((720 - qr.width) // 2, 700))
        buffer = io.BytesIO()
        page.save(buffer, format="PNG")
        assert decode_qr(buffer.getvalue()) == LINK.format(code=code)
