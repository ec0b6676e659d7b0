"""The resident's form in our own table: it survives a crash between two steps (PTB's
persistence never flushed), forged buttons get the polite answer, and forms kept in
user_data by the earlier version continue or end politely."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.app import build_application, start_app, stop_app
from storage import forms as form_rows
from storage import places
from storage import tickets as repo
from storage.backends import database_for
from tests.harness import Harness, TrackingApplication, restart
from tests.resident_steps import CODE_RE, TEXT, current, finish, onboard, ticket, to_description

R = 6201
EXPIRED = "این منو منقضی شده است."
EARLIER = "این دکمه مال مرحلهٔ قبل است"
CLOSED = "فرم نیمه‌تمام شما"


def no_flush(h: Harness) -> None:
    """From now on PTB's persistence writes nothing (as if the process died before its
    next flush): only what the services wrote in their transactions is on disk."""

    async def nothing(*_: Any, **__: Any) -> None:
        return None

    persistence: Any = h.app.persistence
    for name in ("update_conversation", "update_user_data", "update_chat_data",
                 "drop_user_data", "drop_chat_data", "flush"):
        setattr(persistence, name, nothing)


def last_answer(h: Harness) -> str:
    return str(list(h.emu.callback_answers.values())[-1].get("text", ""))


async def start_again(h: Harness) -> None:
    """A new process on the same database (the old one is already stopped)."""
    h.app = build_application(h.settings, clock=h.clock, application_class=TrackingApplication)
    await start_app(h.app, poll_timeout=1)


# ------------------------------------------------------------------ crash between two steps


async def test_form_survives_a_crash_between_two_steps(h: Harness) -> None:
    no_flush(h)
    kind_msg = await onboard(h, R)
    await to_description(h, R, kind_msg)
    ack = (await h.send(R, TEXT))[-1]
    await restart(h)                  # nothing flushed: the forms table is all there is
    done = await finish(h, R, ack)
    filed = await ticket(h, CODE_RE.search(done["text"]).group(1))  # type: ignore[union-attr]
    assert filed.text == TEXT
    async with h.deps.db.read() as conn:     # filed and deleted in one transaction
        assert await form_rows.get(conn, R) is None


async def test_crash_at_every_step_of_the_extras(h: Harness) -> None:
    no_flush(h)
    kind_msg = await onboard(h, R)
    await to_description(h, R, kind_msg)
    ack = (await h.send(R, TEXT))[-1]
    await h.press(R, ack, "تمام")
    await restart(h)
    no_flush(h)
    await h.do(R, "send_location", 35.56, 51.22)
    await restart(h)
    no_flush(h)
    summary = (await h.send(R, "➡️ ادامه"))[-1]
    assert "لطفاً درخواست خود را بررسی کنید" in summary["text"]
    await restart(h)
    done = (await h.press(R, summary, "فرستادن"))[-1]
    filed = await ticket(h, CODE_RE.search(done["text"]).group(1))  # type: ignore[union-attr]
    assert filed.lat == 35.56 and filed.text == TEXT


async def test_neighbourhood_and_form_step_written_together(h: Harness) -> None:
    no_flush(h)
    h.user(R, "زهرا")
    replies = await h.send(R, "/neighbourhood")
    async with h.deps.db.read() as conn:
        form = await form_rows.get(conn, R)
    assert form is not None and form.mode == "place" and form.step == "place"
    await restart(h)
    replies = await h.send(R, "قائمیه")
    replies = await h.press(R, replies[-1], "قائمیه")
    assert "ذخیره شد" in replies[-1]["text"]
    async with h.deps.db.read() as conn:
        assert await form_rows.get(conn, R) is None


# ------------------------------------------------------------------ forged buttons


async def test_forged_form_buttons_get_the_polite_answer(h: Harness) -> None:
    kind_msg = await onboard(h, R)
    for data in ("new:kind:bogus", "new:kind", "new:cat:1", "new:zzz:1"):
        assert await h.press_data(R, kind_msg["message_id"], data, force=True) == []
        assert EXPIRED in last_answer(h) or EARLIER in last_answer(h)
    await h.press(R, kind_msg, "نیاز")
    msg = current(h, R, kind_msg)
    for data in ("new:cat:x", "new:cat:99999", "new:cat:1:2:3"):
        await h.press_data(R, msg["message_id"], data, force=True)
        assert last_answer(h) == EXPIRED
    # the form is still usable after the forgeries
    replies = await h.press(R, current(h, R, kind_msg), "مسکن")
    assert "لطفاً شرح دهید چه چیزی" in replies[-1]["text"]


async def test_forged_place_buttons_get_the_polite_answer(h: Harness) -> None:
    h.user(R, "زهرا")
    replies = await h.send(R, "/neighbourhood")
    provinces = replies[-1]
    for data in ("place:p:abc", "place:zz", "place:n:", "place:c:1:x", "place:p:99999:0"):
        assert await h.press_data(R, provinces["message_id"], data, force=True) == []
    answers = [a.get("text", "") for a in list(h.emu.callback_answers.values())[-5:]]
    assert answers[:4] == [EXPIRED] * 4
    replies = await h.press(R, provinces, "تهران")
    assert "شهر" in current(h, R, provinces)["text"]


async def test_forged_my_buttons_get_the_polite_answer(h: Harness) -> None:
    await onboard(h, R)
    await h.send(R, "/cancel")
    replies = await h.send(R, "/my")
    for data in ("my:open:99999", "my:wd:abc", "my:wdyes:1", "my:follow:99999", "my:zzz:1",
                 "my:list:x", "rate:s:1:9", "rate:bad:77", "new:ok:deadbeef"):
        assert await h.press_data(R, replies[-1]["message_id"], data, force=True) == []
        assert EXPIRED in last_answer(h), data


# ------------------------------------------------------------------ forms from before


async def _legacy(h: Harness, form: dict[str, Any], state: str = "describe") -> None:
    """Stop the bot and leave the state as the earlier version kept it: the form in PTB's
    user_data and the step in PTB's conversations table."""
    await stop_app(h.app)
    db = database_for(h.settings.database)
    await db.open()
    try:
        async with db.tx() as conn:
            await conn.execute("DELETE FROM forms")
            await conn.execute("DELETE FROM conversations")
            await conn.execute(
                "INSERT INTO persisted_data(kind, id, data, updated_at) "
                "VALUES ('user', ?, ?, '2026-01-01T00:00:00+00:00') "
                "ON CONFLICT(kind, id) DO UPDATE SET data = excluded.data, "
                "updated_at = excluded.updated_at", (R, json.dumps({"form": form})))
            await conn.execute("INSERT INTO conversations(name, key, state, updated_at) "
                               "VALUES ('resident', ?, ?, '2026-01-01T00:00:00+00:00')",
                               (json.dumps([R, R]), json.dumps(state)))
    finally:
        await db.close()
    await start_again(h)


async def _category_id(h: Harness) -> int:
    async with h.deps.db.read() as conn:
        return (await places.categories(conn))[0].id


async def test_old_user_data_form_continues(h: Harness) -> None:
    await onboard(h, R)
    await _legacy(h, {"id": "a" * 32, "mode": "new", "text": [TEXT], "files": [],
                      "kind": "need", "category_id": await _category_id(h),
                      "at": h.clock.now().isoformat()})
    ack = (await h.send(R, "و سرما هم هست"))[-1]
    assert "دریافت شد" in ack["text"]
    done = await finish(h, R, ack)
    filed = await ticket(h, CODE_RE.search(done["text"]).group(1))  # type: ignore[union-attr]
    assert filed.text == TEXT + "\nو سرما هم هست"


async def test_old_user_data_form_past_the_timeout_ends_politely(h: Harness) -> None:
    await onboard(h, R)
    old = h.clock.now() - timedelta(hours=3)
    await _legacy(h, {"id": "b" * 32, "mode": "new", "text": [TEXT], "files": [],
                      "kind": "need", "category_id": 1, "at": old.isoformat()})
    replies = await h.send(R, "ادامه")
    assert CLOSED in replies[-1]["text"]
    async with h.deps.db.read() as conn:
        assert await repo.count_by_resident(conn, R) == 0
        assert await form_rows.get(conn, R) is None


async def test_unreadable_old_form_ends_politely(h: Harness) -> None:
    await onboard(h, R)
    await _legacy(h, {"mode": "bogus", "text": 5, "files": "x"}, state="confirm")
    replies = await h.press_data(R, h.last(R)["message_id"], "new:ok:" + "c" * 32, force=True)
    assert CLOSED in replies[-1]["text"]
    replies = await h.send(R, "/new")
    assert "چه چیزی می‌خواهید بفرستید" in replies[-1]["text"]


# ------------------------------------------------------------------ the model and its table


async def test_forms_table_round_trip_and_states(tmp_path: Any) -> None:
    from bot.clock import FakeClock
    from bot.domain.forms import FormFile, ResidentForm
    from storage.db import Database

    db = Database(tmp_path / "f.sqlite3")
    await db.open()
    await db.migrate()
    now = FakeClock().now()
    form = ResidentForm(person_id=7, chat_id=7, mode="new", step="describe",
                        text=("a", "b"), files=(FormFile(kind="photo", file_id="F"),),
                        started_at=now, at=now)
    async with db.tx() as conn:
        await form_rows.put(conn, form, now)
        await conn.execute("INSERT INTO forms(person_id, data, updated_at) VALUES (8, '{', '')")
    async with db.read() as conn:
        assert await form_rows.get(conn, 7) == form
        assert await form_rows.get(conn, 8) is None         # unreadable: no form, no error
        assert await form_rows.states(conn) == {(7, 7): "describe"}
    async with db.tx() as conn:
        await form_rows.delete(conn, 7)
    async with db.read() as conn:
        assert await form_rows.get(conn, 7) is None
    await db.close()


def test_legacy_forms_are_read_or_refused() -> None:
    from bot.clock import FakeClock
    from bot.domain.forms import from_legacy

    now = FakeClock().now()
    form = from_legacy({"id": "x", "mode": "follow", "text": ["hi"], "files": [
        {"kind": "voice", "file_id": "V", "file_unique_id": "U", "caption": None}],
        "ticket_id": 3, "code": "ABC123", "at": now.isoformat()}, 5, 5, "describe", now)
    assert form is not None and form.mode == "follow" and form.files[0].file_id == "V"
    assert form.step == "describe" and form.body == "hi" and form.at == now
    for junk in (None, "form", {"mode": "bogus"}, {"text": 5}, {"at": "yesterday"},
                 {"files": [{"kind": 1}]}):
        assert from_legacy(junk, 5, 5, None, now) is None
