"""Tracking: /my, /status, public history, follow-ups, replies to staff messages, withdraw,
rating and reopening — with staff actions simulated through the ticket service."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import sla
from bot.domain.models import Ticket
from bot.domain.tickets import Action, CloseReason, Status
from bot.services.resident import tell_resident
from bot.services.tickets import Actor, apply
from storage import tickets as repo
from tests.harness import Harness, buttons
from tests.resident_steps import add_role, current, seed_ticket, ticket

R = 6201
OTHER = 6202
STAFF = 6290
MAYOR = 6291


async def _staff(h: Harness, t: Ticket, action: Action, body: str | None = None,
                 public: bool = True, **changes: object) -> Ticket:
    """What the staff side does: apply the action, then tell the resident."""
    async with h.deps.db.tx() as conn:
        fresh = await repo.get(conn, t.id)
        assert fresh is not None
        updated, event_id = await apply(conn, h.deps, fresh, action, Actor(STAFF, "staff"),
                                        body=body, public=public, **changes)
        if public:
            await tell_resident(conn, h.deps, updated, event_id, body=body)
    await h.settle()
    return updated


async def test_my_requests_newest_first_paginated_and_history_hides_notes(h: Harness
                                                                          ) -> None:
    h.user(R)
    made = []
    for i in range(7):
        made.append(await seed_ticket(h, R, f"k{i}"))
        h.clock.advance(timedelta(minutes=1))
    await _staff(h, made[-1], Action.NOTE, "یادداشت محرمانه کارکنان", public=False)
    await _staff(h, made[-1], Action.REPLY, "فردا بازدید می‌کنیم")
    replies = await h.send(R, "📋 درخواست‌های من")
    page = replies[-1]
    assert "۷" in page["text"]
    labels = [t for t, _ in buttons(page)]
    assert labels[0] == "📄 " + made[-1].code and "📄 " + made[0].code not in labels
    await h.press(R, page, "قدیمی‌تر")
    assert "📄 " + made[0].code in [t for t, _ in buttons(current(h, R, page))]
    await h.press(R, current(h, R, page), "تازه‌تر")
    await h.press(R, current(h, R, page), made[-1].code)
    view = current(h, R, page)["text"]
    assert "فردا بازدید می‌کنیم" in view and "محرمانه" not in view
    assert "💬 پاسخ داده شد" in view and "مهلت پاسخ" in view


async def test_status_by_code_and_someone_elses_code_looks_missing(h: Harness) -> None:
    h.user(R)
    h.user(OTHER)
    mine = await seed_ticket(h, R, "a")
    theirs = await seed_ticket(h, OTHER, "b")
    spaced = mine.code[:3].lower() + " " + mine.code[3:]
    replies = await h.send(R, f"/status {spaced}")
    assert f"درخواست {mine.code}" in replies[-1]["text"]
    replies = await h.send(R, f"/status {theirs.code}")
    missing = replies[-1]["text"]
    replies = await h.send(R, "/status ACDEFH")
    assert missing.replace(theirs.code, "X") == replies[-1]["text"].replace("ACDEFH", "X")
    replies = await h.send(R, "/status")
    assert "/status ACD347" in replies[-1]["text"]


async def test_follow_up_button_tells_the_house_staff(h: Harness) -> None:
    h.user(R)
    await add_role(h, STAFF, "staff", "welfare")
    t = await seed_ticket(h, R, "f")
    await h.settle()
    replies = await h.send(R, f"/status {t.code}")
    replies = await h.press(R, replies[-1], "افزودن پیام")
    await h.do(R, "send_photo", data=b"\xff\xd8", caption="عکس تازه")
    ack = (await h.send(R, "سقف امروز بیشتر ریخت"))[-1]
    replies = await h.press(R, ack, "تمام")
    assert f"به درخواست {t.code} اضافه شد" in replies[-1]["text"]
    await h.settle()
    note = h.messages(STAFF)[-1]["text"]
    assert t.code in note and "سقف امروز بیشتر ریخت" in note
    async with h.deps.db.read() as conn:
        files = await repo.attachments(conn, t.id)
    assert len(files) == 1 and files[0].kind == "photo"


async def test_reply_to_a_staff_question_resumes_the_clock(h: Harness) -> None:
    h.user(R)
    await add_role(h, STAFF, "staff", "welfare")
    t = await seed_ticket(h, R, "q")
    asked = await _staff(h, t, Action.ASK, "خانه شما اجاره‌ای است؟",
                         **sla.on_pause(h.clock.now()))
    question = h.messages(R)[-1]
    assert "اجاره‌ای" in question["text"] and "پاسخ" in question["text"]
    h.clock.advance(timedelta(hours=5))
    replies = await h.send(R, "بله اجاره‌ای است", reply_to=question["message_id"])
    assert f"به درخواست {t.code} اضافه شد" in replies[-1]["text"]
    now = await ticket(h, t.code)
    assert now.status is Status.IN_PROGRESS and now.paused_at is None
    assert now.due_at == asked.due_at + timedelta(hours=5)
    await h.settle()
    assert "بله اجاره‌ای است" in h.messages(STAFF)[-1]["text"]


async def test_withdraw_asks_for_confirmation(h: Harness) -> None:
    h.user(R)
    t = await seed_ticket(h, R, "w")
    view = (await h.send(R, f"/status {t.code}"))[-1]
    await h.press(R, view, "پس گرفتن")
    assert "واقعاً" in current(h, R, view)["text"]
    await h.press(R, current(h, R, view), "نه، بماند")
    assert (await ticket(h, t.code)).is_open
    await h.press(R, current(h, R, view), "پس گرفتن")
    await h.press(R, current(h, R, view), "بله")
    assert "پس گرفته شد" in current(h, R, view)["text"]
    closed = await ticket(h, t.code)
    assert closed.status is Status.CLOSED and closed.close_reason is CloseReason.WITHDRAWN


async def _close(h: Harness, t: Ticket) -> Ticket:
    return await _staff(h, t, Action.CLOSE, "وسایل تعمیر سقف تحویل شد",
                        close_reason=CloseReason.RESOLVED, **sla.on_close(h.clock.now()))


async def test_rating_with_a_comment(h: Harness) -> None:
    h.user(R)
    t = await _close(h, await seed_ticket(h, R, "r"))
    prompt = h.messages(R)[-1]
    assert "امتیاز" in prompt["text"] and "حل نشد" in [x for x, _ in buttons(prompt)][-1]
    replies = await h.press(R, prompt, "۴⭐")
    assert "۴⭐" in replies[-1]["text"]
    replies = await h.send(R, "ممنون از پیگیری سریع")
    assert "نظر شما ثبت شد" in replies[-1]["text"]
    rated = await ticket(h, t.code)
    assert rated.rating == 4 and rated.rating_comment == "ممنون از پیگیری سریع"
    again = await h.press_data(R, prompt["message_id"], f"rate:s:{t.id}:5", force=True)
    assert again == [] and "قبلاً" in list(h.emu.callback_answers.values())[-1]["text"]
    assert (await ticket(h, t.code)).rating == 4


async def test_not_resolved_reopens_with_a_new_window_and_tells_the_house(h: Harness
                                                                         ) -> None:
    h.user(R)
    await add_role(h, MAYOR, "mayor")
    t = await _close(h, await seed_ticket(h, R, "o"))
    h.clock.advance(timedelta(days=3))
    prompt = h.messages(R)[-1]
    replies = await h.press(R, prompt, "حل نشد")
    assert "هنوز چه مشکلی" in replies[-1]["text"]
    replies = await h.send(R, "سقف هنوز چکه می‌کند")
    assert "دوباره باز شد" in replies[-1]["text"]
    again = await ticket(h, t.code)
    assert again.status is Status.REOPENED and again.window_no == 2
    assert again.reopen_count == 1 and again.house_id == t.house_id
    assert again.due_at == h.clock.now() + timedelta(hours=72)
    await h.settle()
    assert f"📥 درخواست {t.code}" in h.messages(MAYOR)[-1]["text"]


async def test_not_resolved_after_the_window_is_refused(h: Harness) -> None:
    h.user(R)
    t = await _close(h, await seed_ticket(h, R, "late"))
    h.clock.advance(timedelta(days=15))
    replies = await h.press(R, h.messages(R)[-1], "حل نشد")
    assert "۱۴ روز" in replies[-1]["text"]
    assert (await ticket(h, t.code)).status is Status.CLOSED
