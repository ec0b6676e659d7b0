"""Staff and mayors see what residents attached: counts on the card, the 📎 button and
/files re-send each file by its Telegram file id (and the location), scope-checked."""

from __future__ import annotations

from typing import Any

from tests.harness import Harness, buttons
from tests.resident_steps import CODE_RE, onboard, ticket, to_description
from tests.staff_helpers import MAYOR, OTHER_HOUSE, STAFF, file, team, texts

R = 8101


def _file_ids(messages: list[dict[str, Any]]) -> dict[str, str]:
    """kind -> file id of the user-sent (or bot-sent) media messages."""
    found: dict[str, str] = {}
    for m in messages:
        if m.get("photo"):
            found["photo"] = m["photo"][-1]["file_id"]
        for kind in ("voice", "video", "audio"):
            if m.get(kind):
                found[kind] = m[kind]["file_id"]
        if m.get("document") and not m.get("animation"):
            found["document"] = m["document"]["file_id"]
    return found


async def _file_with_media(h: Harness) -> str:
    """The resident files with a photo, a voice note and a location, then adds a document
    in a follow-up message; returns the tracking code."""
    kind_msg = await onboard(h, R)
    await to_description(h, R, kind_msg)
    await h.do(R, "send_photo", data=b"\xff\xd8wall", caption="دیوار نم‌زده")
    await h.do(R, "send_voice", data=b"OggS-leak", duration=5)
    ack = (await h.send(R, "سقف خانه چکه می‌کند و آب به اتاق می‌ریزد"))[-1]
    await h.press(R, ack, "تمام")
    await h.do(R, "send_location", 35.56, 51.22)
    summary = (await h.send(R, "➡️ ادامه"))[-1]
    done = (await h.press(R, summary, "فرستادن"))[-1]
    match = CODE_RE.search(done["text"])
    assert match, done["text"]
    code = match.group(1)
    await h.settle()
    view = (await h.send(R, f"/status {code}"))[-1]
    await h.press(R, view, "افزودن پیام")
    await h.do(R, "send_document", b"%PDF-bill", filename="ghabz.pdf",
               mime_type="application/pdf", caption="قبض آب")
    ack = (await h.send(R, "این هم قبض آب این ماه"))[-1]
    await h.press(R, ack, "تمام")
    await h.settle()
    return code


async def test_staff_presses_attachments_and_gets_the_same_files(h: Harness) -> None:
    await team(h)
    code = await _file_with_media(h)
    sent_by_resident = _file_ids([m for m in h.emu.chat(R) if not m["from_bot"]])
    assert set(sent_by_resident) == {"photo", "voice", "document"}

    card = (await h.send(STAFF, f"/show {code}"))[-1]
    assert "📎 ۳ پیوست" in card["text"] and "📍 موقعیت مکانی فرستاده شده" in card["text"]
    got = await h.press(STAFF, card, "📎 پیوست‌ها")
    assert f"📎 درخواست {code}: ۳ پیوست" in got[0]["text"]
    assert _file_ids(got) == sent_by_resident
    photo = next(m for m in got if m.get("photo"))
    assert photo["caption"] == "دیوار نم‌زده"
    assert next(m for m in got if m.get("document"))["caption"] == "قبض آب"
    assert got[-1]["location"] == {"latitude": 35.56, "longitude": 51.22}
    sent = [m for m, _ in h.emu.requests]
    assert {"sendPhoto", "sendVoice", "sendDocument", "sendLocation"} <= set(sent)

    # the command does the same; mayors of the area may look too
    again = await h.send(STAFF, f"/files {code.lower()}")
    assert _file_ids(again) == sent_by_resident and again[-1].get("location")
    mayor = await h.send(MAYOR, f"/files {code}")
    assert _file_ids(mayor) == sent_by_resident

    # the resident's own view counts their files
    view = (await h.send(R, f"/status {code}"))[-1]["text"]
    assert "📎 ۳ فایل پیوست کرده‌اید" in view


async def test_out_of_scope_files_look_missing(h: Harness) -> None:
    await team(h)
    code = await _file_with_media(h)
    t = await ticket(h, code)
    real = texts(await h.send(OTHER_HOUSE, f"/files {code}"))
    missing = texts(await h.send(OTHER_HOUSE, "/files ACDEFH"))
    assert "پیدا نشد" in real and real.replace(code, "ACDEFH") == missing
    before = len(h.emu.chat(OTHER_HOUSE))
    message = h.last(OTHER_HOUSE)
    got = await h.press_data(OTHER_HOUSE, message["message_id"], f"st:files:{t.id}",
                             force=True)
    assert got == [] and len(h.emu.chat(OTHER_HOUSE)) == before
    answer = list(h.emu.callback_answers.values())[-1]
    assert "پیدا نشد" in (answer["text"] or "") and answer["show_alert"]
    assert "/files" in texts(await h.send(STAFF, "/files"))
    assert "شهرداران" in texts(await h.send(R, f"/files {code}"))


async def test_ticket_without_files_has_no_button(h: Harness) -> None:
    await team(h)
    plain = await file(h)
    card = (await h.send(STAFF, f"/show {plain.code}"))[-1]
    assert "📎" not in card["text"] and "📍" not in card["text"]
    assert not any("پیوست" in label for label, _ in buttons(card))
    got = await h.send(STAFF, f"/files {plain.code}")
    assert "پیوست و موقعیتی ندارد" in texts(got) and len(got) == 1
