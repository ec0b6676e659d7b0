"""Issue 11, behaviour: what residents, mayors and staff see, end to end through the emulator.

Prompts answered by the next plain message, houses by their Persian names, staff answers
with photos and voice notes (copied, never forwarded), the mayor told where a request went.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.domain.tickets import Status
from tests.harness import Harness
from tests.resident_steps import CODE_RE, finish, onboard, to_description
from tests.staff_helpers import (
    MAYOR,
    OTHER_HOUSE,
    RESIDENT,
    STAFF,
    file,
    reload,
    team,
    texts,
)

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a"
    "730000001049444154789c63f8cfc000440c100a001fee03fd8b5f14d4000000"
    "0049454e44ae426082")


async def _route_prompt(h: Harness, code: str) -> dict:  # type: ignore[type-arg]
    inbox = (await h.send(MAYOR, "/inbox"))[0]
    card = (await h.press(MAYOR, inbox, code))[0]
    houses = (await h.press(MAYOR, card, "تغییر خانه"))[0]
    return (await h.press(MAYOR, houses, "امداد"))[0]


# ---------------------------------------------------------------------------- 3: prompts

async def test_mayor_routes_with_a_plain_typed_reason(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    prompt = await _route_prompt(h, ticket.code)
    assert "پیام بعدی" in prompt["text"]          # «send it as your next message»
    seen = await h.send(MAYOR, "درخواست وام است")   # typed, not a Telegram reply
    assert "متوجه نشدم" not in texts(seen)
    assert ticket.code in texts(seen) and "امداد" in texts(seen)
    fresh = await reload(h, ticket)
    assert fresh.status is Status.NEW and fresh.house_id != ticket.house_id
    await h.settle()
    assert ticket.code in h.last(OTHER_HOUSE)["text"]


async def test_pending_prompt_wins_over_an_open_resident_form(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    prompt = await _route_prompt(h, ticket.code)
    assert prompt
    await h.send(MAYOR, "/new")                    # the mayor as a resident opens a form…
    prompt = await _route_prompt(h, ticket.code)   # …then a prompt: the prompt wins
    seen = await h.send(MAYOR, "مربوط به امداد است")
    assert ticket.code in texts(seen) and "امداد" in texts(seen)
    assert (await reload(h, ticket)).house_id != ticket.house_id


async def test_cancel_drops_the_prompt_and_it_expires(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}"))[0]
    await h.press(STAFF, card, "پاسخ")
    seen = await h.send(STAFF, "/cancel")
    assert "متوقف" in texts(seen)
    seen = await h.send(STAFF, "این نباید برود")
    assert "متوجه نشدم" in texts(seen)
    assert (await reload(h, ticket)).first_response_at is None
    # A prompt older than ten minutes waits only for a Telegram reply.
    prompt = (await h.press(STAFF, card, "پاسخ"))[0]
    h.clock.advance(timedelta(minutes=11))
    seen = await h.send(STAFF, "دیر شد")
    assert "متوجه نشدم" in texts(seen)
    await h.send(STAFF, "پاسخ با ریپلای", reply_to=prompt["message_id"])
    assert (await reload(h, ticket)).first_response_at is not None


async def test_group_prompts_still_ask_for_a_reply(h: Harness) -> None:
    await team(h)
    group = -100777
    h.emu.add_group(group, "تیم بهزیستی")
    await h.send(STAFF, "/bind", chat_id=group)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}", chat_id=group))[0]
    prompt = (await h.press(STAFF, card, "پاسخ", chat_id=group))[0]
    assert "پیام بعدی" not in prompt["text"] and "/cancel" in prompt["text"]


# ---------------------------------------------------------------------------- 4: house names

async def test_route_and_transfer_accept_persian_house_names(h: Harness) -> None:
    await team(h)
    first = await file(h)
    seen = await h.send(MAYOR, f"/route {first.code} امداد درخواست وام است")
    assert "امداد" in texts(seen) and "welfare, relief" not in texts(seen)
    assert (await reload(h, first)).house_id != first.house_id
    second = await file(h)
    seen = await h.send(MAYOR, f"/route {second.code} خانه‌ی احسان بستهٔ معیشتی")
    assert "احسان" in texts(seen)
    third = await file(h)
    seen = await h.send(STAFF, f"/transfer {third.code} خانه امداد وام")
    assert "امداد" in texts(seen)
    fourth = await file(h)
    seen = await h.send(STAFF, f"/transfer {fourth.code} خانه احسان کمک معیشتی")
    assert "احسان" in texts(seen)
    fifth = await file(h, category="health")
    seen = await h.send(MAYOR, f"/route {fifth.code} بهزيستي ناتوانی جسمی")  # Arabic ي
    assert "بهزیستی" in texts(seen)
    seen = await h.send(MAYOR, f"/route {fifth.code} نامعلوم دلیل")
    assert "نامعلوم" in texts(seen)


# ---------------------------------------------------------------------------- 6: media answers

async def test_staff_photo_reply_reaches_the_resident_as_a_copy(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}"))[0]
    seen = await h.do(STAFF, "send_photo", PNG, caption="این فرم را پر کنید",
                      reply_to=card["message_id"])
    assert ticket.code in texts(seen)
    await h.settle()
    got = h.last(RESIDENT)
    assert got.get("photo") and "این فرم را پر کنید" in got["caption"]
    assert ticket.code in got["caption"]
    assert "forward_origin" not in got and "forward_from" not in got
    assert "علی" not in got["caption"]
    fresh = await reload(h, ticket)
    assert fresh.first_response_at is not None and fresh.assignee_id == STAFF
    # The resident's Telegram reply to the copy joins the ticket.
    seen = await h.send(RESIDENT, "ممنون، پر کردم", reply_to=got["message_id"])
    assert ticket.code in texts(seen)


async def test_staff_voice_in_the_reply_prompt(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    card = (await h.send(STAFF, f"/show {ticket.code}"))[0]
    await h.press(STAFF, card, "پاسخ")
    seen = await h.do(STAFF, "send_voice")
    assert ticket.code in texts(seen) and "لطفاً نیاز خود" not in texts(seen)
    await h.settle()
    got = h.last(RESIDENT)
    assert got.get("voice") and ticket.code in got["caption"]


async def test_resident_voice_note_stands_as_the_description(h: Harness) -> None:
    await team(h)
    kind = await onboard(h, RESIDENT)
    await to_description(h, RESIDENT, kind)
    ack = (await h.do(RESIDENT, "send_voice"))[-1]
    done = await finish(h, RESIDENT, ack)
    found = CODE_RE.search(done["text"])
    assert found, done["text"]
    await h.settle()
    assert found.group(1) in h.last(STAFF)["text"]


# ---------------------------------------------------------------------------- 7: the mayor

async def test_mayor_is_told_where_it_went_and_inbox_shows_what_he_handled(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    before = len(h.messages(MAYOR))
    seen = await h.send(MAYOR, f"/route {ticket.code} امداد درخواست وام است")
    await h.settle()
    told = texts(h.messages(MAYOR)[before:])
    assert "امداد" in texts(seen) and "حالا در صف شماست" not in told
    inbox = texts(await h.send(MAYOR, "/inbox"))
    assert "خالی" in inbox                          # nothing new left…
    assert ticket.code in inbox and "امداد" in inbox  # …and what he routed, and where


# ---------------------------------------------------------------------------- 8, 9: the resident

async def test_my_shows_the_subject_and_a_bare_code_shows_the_request(h: Harness) -> None:
    await team(h)
    ticket = await file(h, text="سقف خانه چکه می‌کند و آب به اتاق بچه‌ها می‌ریزد و برق رفته")
    mine = texts(await h.send(RESIDENT, "/my"))
    assert "مسکن" in mine and "سقف خانه چکه می‌کند" in mine and "برق رفته" not in mine
    persian = ticket.code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    for typed in (ticket.code, ticket.code.lower(), f"\u200e{persian}\u200f"):
        seen = texts(await h.send(RESIDENT, typed))
        assert ticket.code in seen and "متوجه نشدم" not in seen, typed
    # Staff sending a code of their area get its card; a stranger's code is not found.
    card = texts(await h.send(STAFF, ticket.code))
    assert ticket.code in card and "سقف خانه" in card
    seen = texts(await h.send(OTHER_HOUSE, ticket.code))
    assert "سقف خانه" not in seen


# ---------------------------------------------------------------------------- 5, 11: overdue

async def test_overdue_request_is_honest_to_the_resident_and_tells_the_staff(h: Harness
                                                                           ) -> None:
    from bot.services.sla import sweep

    await team(h)
    ticket = await file(h)
    h.clock.advance(timedelta(hours=73))
    await sweep(h.deps)
    await h.settle()
    assert "🚨" in h.last(STAFF)["text"] and ticket.code in h.last(STAFF)["text"]  # 11
    late = h.last(RESIDENT)["text"]
    assert "😔" in late and "شهردار" in late and "بهزیستی" in late
    status = texts(await h.send(RESIDENT, f"/status {ticket.code}"))
    assert "دریافت شد" not in status.split("تاریخچه")[0]
    assert "⏰" in status and "شهردار" in status and "بهزیستی" in status
    assert "یادآوری به خانه" not in status
    mine = texts(await h.send(RESIDENT, "/my"))
    assert "⏰" in mine and "دریافت شد، در صف" not in mine
    # A day later it goes up again and the resident hears it, as promised.
    h.clock.advance(timedelta(hours=24))
    await sweep(h.deps)
    await h.settle()
    assert ticket.code in h.last(RESIDENT)["text"] and "😔" in h.last(RESIDENT)["text"]


# ---------------------------------------------------------------------------- 10: the card

async def test_card_refreshes_after_take_and_shows_reasons(h: Harness) -> None:
    await team(h)
    ticket = await file(h)
    await h.send(MAYOR, f"/route {ticket.code} relief وام ازدواج می‌خواهد")
    await h.settle()                      # the announcement first, so the card is the answer
    card = (await h.send(OTHER_HOUSE, f"/show {ticket.code}"))[0]
    assert "وام ازدواج می‌خواهد" in card["text"]         # the mayor's reason
    await h.press(OTHER_HOUSE, card, "رسیدگی می‌کنم")
    now = next(m for m in h.emu.chat(OTHER_HOUSE) if m["message_id"] == card["message_id"])
    labels = [b["text"] for row in now["reply_markup"]["inline_keyboard"] for b in row]
    assert not any("رسیدگی می‌کنم" in label for label in labels)
    assert "سارا" in now["text"]                        # taken by, on the same card
    fresh = (await h.send(OTHER_HOUSE, f"/show {ticket.code}"))[0]
    offered = [b["text"] for row in fresh["reply_markup"]["inline_keyboard"] for b in row]
    assert not any("رسیدگی می‌کنم" in label for label in offered)
    # Closed, then reopened by the resident: the card says why.
    await h.send(OTHER_HOUSE, f"/close {ticket.code} resolved وام پرداخت شد")
    await h.settle()
    closed = h.last(RESIDENT)
    prompt = (await h.press(RESIDENT, closed, "حل نشد"))[-1]
    assert prompt
    await h.send(RESIDENT, "هنوز وامی پرداخت نشده است")
    await h.settle()
    card = (await h.send(OTHER_HOUSE, f"/show {ticket.code}"))[0]
    assert "هنوز وامی پرداخت نشده است" in card["text"]


# ---------------------------------------------------------------------------- 13: role menus

async def test_sandbox_cast_sees_role_menus_and_role_help(tmp_path: Path) -> None:
    from bot.config import Settings
    from bot.sandbox import seed
    from bot.sandbox.run import Sandbox

    settings = Settings(_env_file=None, bot_token=None,  # type: ignore[call-arg]
                        sandbox_database_path=tmp_path / "sandbox.sqlite3", sandbox_port=0)
    sandbox = Sandbox(settings, poll_timeout=1)
    await sandbox.start()
    try:
        emu = sandbox.emu
        assert emu is not None
        mayor = {c["command"] for c in emu.commands(f"chat:{seed.MAYOR}")}
        staff = {c["command"] for c in emu.commands(f"chat:{seed.STAFF['welfare']}")}
        assert {"inbox", "route", "duplicate", "new", "my"} <= mayor and "queue" not in mayor
        assert {"queue", "reply", "transfer", "close", "new"} <= staff and "inbox" not in staff
    finally:
        await sandbox.stop()


async def test_help_lists_each_roles_commands(h: Harness) -> None:
    from bot.ui.commands import MAYOR_COMMANDS, STAFF_COMMANDS

    await team(h)
    mayor = texts(await h.send(MAYOR, "/help"))
    staff = texts(await h.send(STAFF, "/help"))
    h.user(RESIDENT, "زهرا")
    resident = texts(await h.send(RESIDENT, "/help"))
    assert all(f"/{name}" in mayor for name, _ in MAYOR_COMMANDS)
    assert all(f"/{name}" in staff for name, _ in STAFF_COMMANDS)
    assert "/inbox" not in resident and "/queue" not in resident


async def test_plain_typed_duplicate_and_close_and_more_house_names(h: Harness) -> None:
    await team(h)
    original = await file(h)
    again = await file(h, text="سقف خانه هنوز چکه می‌کند")
    inbox = (await h.send(MAYOR, "/inbox"))[0]
    card = (await h.press(MAYOR, inbox, again.code))[0]
    await h.press(MAYOR, card, "تکراری")
    seen = texts(await h.send(MAYOR, f"{original.code} همان درخواست قبلی است"))
    assert again.code in seen                       # the prompt won over the code lookup
    fresh = await reload(h, again)
    assert fresh.status is Status.CLOSED and fresh.duplicate_of == original.id
    card = (await h.send(STAFF, f"/show {original.code}"))[0]
    reasons = (await h.press(STAFF, card, "بستن"))[0]
    await h.press(STAFF, reasons, "حل شد")
    seen = texts(await h.send(STAFF, "تعمیرکار فرستاده شد و سقف درست شد"))
    assert original.code in seen
    assert (await reload(h, original)).status is Status.CLOSED
    third = await file(h)
    seen = texts(await h.send(MAYOR, f"/route {third.code} هلال احمر کمک‌های اولیه"))
    assert "هلال" in seen
    async with h.deps.db.read() as conn:
        from storage import tickets as repo

        routed = [e.body for e in await repo.events(conn, third.id, public_only=False)
                  if e.action == "route"]
    assert routed == ["کمک‌های اولیه"]           # «احمر» was part of the house's name


async def test_an_answer_whose_photo_is_gone_still_reaches_the_resident(h: Harness) -> None:
    from bot.services import staff as svc
    from bot.services.staff import Ref, StaffMedia

    await team(h)
    ticket = await file(h)
    async with h.deps.db.read() as conn:
        from storage import people

        roles = await people.active_roles(conn, STAFF)
    scope = await svc.current_scope(h.deps, STAFF, roles, STAFF, False)
    gone = StaffMedia("photo", "no-such-file", None, STAFF, 999_999)   # deleted meanwhile
    await svc.reply(h.deps, scope, Ref(ticket_id=ticket.id), "فرم را ببینید", media=gone)
    await h.settle()
    got = h.last(RESIDENT)
    assert "فرم را ببینید" in got["text"] and ticket.code in got["text"]
