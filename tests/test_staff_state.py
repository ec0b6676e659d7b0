"""Staff and mayor state that must survive a restart (prompts, cards), stale or forged
buttons, and one card per Show press."""

from __future__ import annotations

import pytest

from bot.domain.tickets import CloseReason, Status
from tests.harness import Harness, button_data, restart
from tests.staff_helpers import (
    MAYOR,
    OTHER_HOUSE,
    RESIDENT,
    STAFF,
    STAFF2,
    events,
    file,
    reload,
    team,
    texts,
)

EXPIRED = "این منو منقضی شده است"


async def test_prompt_answered_after_restart(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}"))[0]
    prompt = (await h.press(STAFF, card, "پاسخ"))[0]
    await restart(h)
    await h.send(STAFF, "فردا تماس می‌گیریم", reply_to=prompt["message_id"])
    await h.settle()
    assert "فردا تماس" in h.last(RESIDENT)["text"]
    assert await events(h, ticket) == ["file", "reply"]
    await h.send(STAFF, "دوباره", reply_to=prompt["message_id"])   # a prompt acts once
    await h.settle()
    assert await events(h, ticket) == ["file", "reply"]


async def test_mayor_prompt_answered_after_restart(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(MAYOR, f"/show {ticket.code}"))[0]
    houses = (await h.press(MAYOR, card, "تغییر خانه"))[0]
    prompt = (await h.press(MAYOR, houses, "امداد"))[0]
    await restart(h)
    before = len(h.messages(OTHER_HOUSE))
    await h.send(MAYOR, "درخواست وام است", reply_to=prompt["message_id"])
    await h.settle()
    assert await events(h, ticket) == ["file", "route"]
    assert len(h.messages(OTHER_HOUSE)) == before + 1


async def test_prompt_belongs_to_the_person_who_asked_for_it(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}"))[0]
    prompt = (await h.press(STAFF, card, "یادداشت"))[0]
    async with h.deps.db.read() as conn:
        from storage.prompts import take_prompt

        assert await take_prompt(conn, STAFF2, prompt["message_id"], STAFF) is None
    await h.send(STAFF, "یادداشت داخلی", reply_to=prompt["message_id"])
    assert await events(h, ticket) == ["file", "note"]


async def test_reply_to_a_card_after_restart_reaches_the_resident(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}"))[0]
    await restart(h)
    await h.send(STAFF, "سلام، پیگیری می‌کنیم", reply_to=card["message_id"])
    await h.settle()
    assert "پیگیری می‌کنیم" in h.last(RESIDENT)["text"]


async def test_prompts_and_cards_from_before_the_upgrade_still_work(h: Harness) -> None:
    """Made by the earlier version in PTB user_data / chat_data."""
    await team(h)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}"))[0]
    old_prompt = (await h.send(STAFF, "/templates"))[0]
    h.app.user_data[STAFF]["prompts"] = {str(old_prompt["message_id"]): ["note", ticket.id, ""]}
    await h.send(STAFF, "یادداشت قدیمی", reply_to=old_prompt["message_id"])
    assert await events(h, ticket) == ["file", "note"]
    old_card = (await h.send(STAFF, "/stats"))[0]
    h.app.chat_data[STAFF]["cards"] = {str(old_card["message_id"]): ticket.id}
    await h.send(STAFF, "پاسخ از کارت قدیمی", reply_to=old_card["message_id"])
    await h.settle()
    assert "کارت قدیمی" in h.last(RESIDENT)["text"]
    assert card["message_id"] != old_card["message_id"]


@pytest.mark.parametrize("data", [
    "st:take:abc", "st:take", "st:nope:1", "st:tpl:1", "st:cr:1:withdrawnx", "st:q:all:x",
    "st:xferto:1", "ticket:show:1:2", "ticket:zap:1", "st:" + "9" * 30,
])
async def test_forged_staff_buttons_expire_politely(h: Harness, data: str) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}"))[0]
    answer = await h.press_data(STAFF, card["message_id"], data, force=True)
    assert EXPIRED in texts(answer)
    assert await events(h, ticket) == ["file"]


@pytest.mark.parametrize("data", [
    "mb:route:abc", "mb:dup", "mb:zap:1", "mb:routeto:1", "mb:q:inbox:x", "mb:q",
])
async def test_forged_mayor_buttons_expire_politely(h: Harness, data: str) -> None:
    await team(h)
    ticket = await file(h)
    inbox = (await h.send(MAYOR, "/inbox"))[0]
    answer = await h.press_data(MAYOR, inbox["message_id"], data, force=True)
    assert EXPIRED in texts(answer)
    assert (await reload(h, ticket)).status is Status.NEW


async def test_withdrawn_is_no_close_reason_for_staff(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}"))[0]
    data = f"st:cr:{ticket.id}:{CloseReason.WITHDRAWN.value}"
    answer = await h.press_data(STAFF, card["message_id"], data, force=True)
    assert EXPIRED in texts(answer)
    assert (await reload(h, ticket)).status is Status.NEW


async def test_staff_button_of_a_mayor_shows_not_found(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(MAYOR, f"/show {ticket.code}"))[0]
    answer = await h.press_data(MAYOR, card["message_id"], f"st:take:{ticket.id}",
                                force=True)
    assert "پیدا نشد" in texts(answer)
    assert (await reload(h, ticket)).assignee_id is None


async def test_show_press_sends_the_card_once(h: Harness,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services import staff as svc
    from storage import tickets as repo

    await team(h)
    ticket = await file(h)
    announcement = h.last(STAFF)
    calls = {"show": 0, "attachments": 0}
    show, count = svc.show, repo.attachment_count

    async def counting_show(*args: object, **kwargs: object) -> svc.CardView:
        calls["show"] += 1
        return await show(*args, **kwargs)  # type: ignore[arg-type]

    async def counting_count(*args: object, **kwargs: object) -> int:
        calls["attachments"] += 1
        return await count(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(svc, "show", counting_show)
    monkeypatch.setattr(repo, "attachment_count", counting_count)
    sent = await h.press(STAFF, announcement, "نمایش")
    assert len(sent) == 1 and ticket.code in sent[0]["text"]
    assert calls == {"show": 1, "attachments": 1}
    history = await h.press(STAFF, sent[0], "سابقه")
    assert len(history) == 1 and ticket.code in history[0]["text"]
    assert calls == {"show": 2, "attachments": 2}
    assert button_data(sent[0], "رسیدگی می‌کنم") == f"st:take:{ticket.id}"
