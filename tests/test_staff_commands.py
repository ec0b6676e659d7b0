"""Each staff command through the emulator, with its success and failure paths."""

from __future__ import annotations

from bot.domain.tickets import CloseReason, Status
from tests.harness import Harness, buttons
from tests.staff_helpers import RESIDENT, STAFF, STAFF2, events, file, reload, team, texts


async def test_announcement_buttons_show_and_take(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    announcement = h.last(STAFF)
    assert ticket.code in announcement["text"]
    card = await h.press(STAFF, announcement, "نمایش")
    assert ticket.code in card[0]["text"] and "سقف خانه" in card[0]["text"]
    assert "تا مهلت پاسخ" in card[0]["text"]            # "due in ..." SLA state, in Persian
    taken = await h.press(STAFF, announcement, "رسیدگی می‌کنم")
    assert ticket.code in texts(taken)
    fresh = await reload(h, ticket)
    assert fresh.assignee_id == STAFF and fresh.status is Status.IN_PROGRESS
    other = await h.press(STAFF2, h.last(STAFF2), "رسیدگی می‌کنم")
    assert "علی" in texts(other)                 # told who has it
    await h.settle()
    assert ticket.code in h.last(RESIDENT)["text"]


async def test_take_reply_ask_note_close_reopen_by_command(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    code = ticket.code
    assert "با شماست" in texts(await h.send(STAFF, f"/take {code}"))
    assert (await reload(h, ticket)).assignee_id == STAFF
    assert code in texts(await h.send(STAFF, f"/take {code}"))     # already yours

    usage = await h.send(STAFF, "/reply")
    assert "/reply" in texts(usage)
    await h.send(STAFF, f"/reply {code.lower()} برای بازدید هفته بعد می‌آییم")
    fresh = await reload(h, ticket)
    assert fresh.first_response_at is not None and fresh.sla_next_at is None
    assert fresh.status is Status.ANSWERED
    await h.settle()
    relayed = h.last(RESIDENT)
    assert "بازدید" in relayed["text"] and code in relayed["text"]

    await h.send(STAFF, f"/ask {code} چند نفر در خانه زندگی می‌کنند؟")
    fresh = await reload(h, ticket)
    assert fresh.status is Status.AWAITING_RESIDENT and fresh.paused_at is not None
    await h.settle()
    assert "چند نفر" in h.last(RESIDENT)["text"]

    before = len(h.messages(RESIDENT))
    await h.send(STAFF, f"/note {code} همسایه‌ها هم تأیید کردند")
    await h.settle()
    assert len(h.messages(RESIDENT)) == before          # internal: resident sees nothing
    shown = texts(await h.send(STAFF, f"/show {code}"))
    assert "همسایه‌ها هم تأیید کردند" in shown and "🔒" in shown

    missing_message = await h.send(STAFF, f"/close {code} resolved")
    assert "پیام" in texts(missing_message)
    assert (await reload(h, ticket)).status is Status.AWAITING_RESIDENT
    await h.send(STAFF, f"/close {code} resolved تعمیر سقف انجام شد")
    fresh = await reload(h, ticket)
    assert fresh.status is Status.CLOSED and fresh.close_reason is CloseReason.RESOLVED
    await h.settle()
    closing = h.last(RESIDENT)
    assert "تعمیر سقف انجام شد" in closing["text"]
    labels = [data for _, data in buttons(closing)]
    assert f"rate:s:{ticket.id}:5" in labels and f"rate:bad:{ticket.id}" in labels

    again = await h.send(STAFF, f"/close {code} resolved دوباره")
    assert "بسته" in texts(again)                       # not allowed when closed
    await h.send(STAFF, f"/reopen {code}")
    fresh = await reload(h, ticket)
    assert fresh.status is Status.REOPENED and fresh.window_no == 2
    assert await events(h, ticket) == ["file", "take", "reply", "ask", "note", "close",
                                       "reopen"]


async def test_close_reasons_by_buttons_and_duplicate(h: Harness) -> None:
    await team(h)
    original = await file(h, text="آب لوله‌کشی قطع است")
    ticket = await file(h, text="آب قطع است")
    menu = (await h.send(STAFF, f"/close {ticket.code}"))[0]
    prompt = (await h.press(STAFF, menu, "تکراری"))[0]
    assert "کد درخواست اصلی" in prompt["text"]
    await h.send(STAFF, "ZZZZZZ پیام", reply_to=prompt["message_id"])
    assert (await reload(h, ticket)).status is Status.NEW           # bad original code
    menu = (await h.send(STAFF, f"/close {ticket.code}"))[0]
    prompt = (await h.press(STAFF, menu, "تکراری"))[0]
    done = await h.send(STAFF, f"{original.code} همان درخواست قبلی است",
                        reply_to=prompt["message_id"])
    assert ticket.code in texts(done)
    fresh = await reload(h, ticket)
    assert fresh.close_reason is CloseReason.DUPLICATE and fresh.duplicate_of == original.id
    await h.settle()
    assert original.code in h.last(RESIDENT)["text"]

    third = await file(h, text="درخواست پروانه ساختمان")
    await h.send(STAFF, f"/close {third.code} notours لطفاً به شهرداری منطقه مراجعه کنید")
    fresh = await reload(h, third)
    assert fresh.close_reason is CloseReason.NOT_OUR_RESPONSIBILITY
    await h.settle()
    assert "شهرداری" in h.last(RESIDENT)["text"]


async def test_transfer_announces_to_new_house_and_keeps_deadline(h: Harness) -> None:
    from tests.staff_helpers import OTHER_HOUSE

    await team(h)
    ticket = await file(h)
    bad = await h.send(STAFF, f"/transfer {ticket.code} nowhere دلیل")
    assert "nowhere" in texts(bad)
    same = await h.send(STAFF, f"/transfer {ticket.code} welfare دلیل")
    assert ticket.code in texts(same) and (await reload(h, ticket)).house_id == ticket.house_id
    before = len(h.messages(OTHER_HOUSE))
    await h.send(STAFF, f"/transfer {ticket.code} relief مربوط به وام است")
    fresh = await reload(h, ticket)
    assert fresh.due_at == ticket.due_at and fresh.house_id != ticket.house_id
    await h.settle()
    assert len(h.messages(OTHER_HOUSE)) == before + 1
    assert ticket.code in h.last(OTHER_HOUSE)["text"]
    assert "امداد" in h.last(RESIDENT)["text"]
    gone = await h.send(STAFF, f"/show {ticket.code}")       # no longer in welfare scope
    assert "پیدا نشد" in texts(gone)


async def test_buttons_on_card_reply_templates_and_transfer(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}"))[0]
    prompt = (await h.press(STAFF, card, "پاسخ"))[0]
    await h.send(STAFF, "فردا تماس می‌گیریم", reply_to=prompt["message_id"])
    await h.settle()
    assert "فردا تماس" in h.last(RESIDENT)["text"]
    tpl_menu = (await h.press(STAFF, card, "آماده"))[0]
    await h.press(STAFF, tpl_menu, "#۲")
    await h.settle()
    assert "کارت ملی" in h.last(RESIDENT)["text"]
    houses = (await h.press(STAFF, card, "ارجاع"))[0]
    prompt = (await h.press(STAFF, houses, "امداد"))[0]
    await h.send(STAFF, "مربوط به وام", reply_to=prompt["message_id"])
    assert (await reload(h, ticket)).house_id != ticket.house_id


async def test_telegram_reply_to_card_and_announcement_is_relayed(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    announcement = h.last(STAFF)
    await h.send(STAFF, "سلام، پیگیری می‌کنیم", reply_to=announcement["message_id"])
    await h.settle()
    relayed = h.last(RESIDENT)
    assert "پیگیری می‌کنیم" in relayed["text"]
    from storage.outbox import ticket_for_message

    async with h.deps.db.read() as conn:      # the resident can reply back to this message
        assert await ticket_for_message(conn, RESIDENT, relayed["message_id"]) == ticket.id
    card = (await h.send(STAFF2, f"/show {ticket.code}"))[0]
    await h.send(STAFF2, "جواب دوم", reply_to=card["message_id"])
    await h.settle()
    assert "جواب دوم" in h.last(RESIDENT)["text"]


async def test_queue_filters_pagination_and_overdue(h: Harness) -> None:
    from datetime import timedelta

    await team(h)
    tickets = [await file(h, text=f"درخواست شماره {i}") for i in range(10)]
    queue = (await h.send(STAFF, "/queue"))[0]
    assert tickets[0].code in queue["text"] and tickets[9].code not in queue["text"]
    page2 = (await h.press(STAFF, queue, "بعدی"))[-1]
    assert tickets[9].code in page2["text"]
    await h.send(STAFF, f"/take {tickets[3].code}")
    mine = (await h.send(STAFF, "/queue mine"))[0]
    assert tickets[3].code in mine["text"] and tickets[0].code not in mine["text"]
    unassigned = (await h.send(STAFF, "/queue unassigned"))[0]
    assert tickets[3].code not in unassigned["text"]
    assert "خالی" in texts(await h.send(STAFF, "/overdue"))
    await h.send(STAFF, f"/reply {tickets[0].code} جواب")
    h.clock.advance(timedelta(hours=75))
    overdue = texts(await h.send(STAFF, "/overdue"))
    assert tickets[1].code in overdue and tickets[0].code not in overdue
    assert "تأخیر" in overdue                       # "overdue 3 hours"


async def test_resident_cannot_use_staff_commands(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    for command in ("/queue", f"/show {ticket.code}", f"/take {ticket.code}",
                    f"/reply {ticket.code} x", "/stats", "/export"):
        reply = await h.send(RESIDENT, command)
        assert "کارکنان" in texts(reply), command
    assert (await reload(h, ticket)).assignee_id is None


async def test_card_warns_when_the_resident_blocked_the_bot(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    h.emu.block(RESIDENT)
    await h.send(STAFF, f"/reply {ticket.code} لطفاً مدارک را بیاورید")
    await h.settle()
    card = texts(await h.send(STAFF, f"/show {ticket.code}"))
    assert "ربات را مسدود کرده" in card
    assert "✅" in card and "در مهلت" in card   # answered within the window
