"""Issue 11, item 12: the consent says what is kept, for how long and who sees it, and lets a
person decline; RETENTION_DAYS after closing a request is anonymised (statistics unchanged);
/forget_me erases a resident's data after a confirmation, withdrawing open requests first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.domain.tickets import CloseReason, Status
from bot.services import privacy
from bot.services import staff as staff_svc
from storage import dialect, people
from storage import tickets as repo
from storage.base import fetch_value
from storage.conn import Conn
from tests.harness import Harness, start_harness, stop_harness
from tests.staff_helpers import MAYOR, RESIDENT, STAFF, file, reload, team, texts

R2 = 8101


async def test_consent_names_who_sees_how_long_and_can_be_declined(h: Harness) -> None:
    h.user(R2, "مینا")
    consent = (await h.send(R2, "📝 درخواست جدید"))[-1]
    text = consent["text"]
    assert "شهردار" in text and "ناظر" in text and "مدیر" in text
    assert "۷۳۰ روز" in text and "/forget_me" in text
    seen = await h.press(R2, consent, "نه، ممنون")
    shown = texts(seen)
    assert "/help" in shown and "خانه بهزیستی" in shown and "خانه هلال" in shown
    async with h.deps.db.read() as conn:
        person = await people.get(conn, R2)
        filed = await repo.count_by_resident(conn, R2)
    assert person is not None and person.consent_at is None and filed == 0
    help_text = texts(await h.send(R2, "/help"))
    assert "/forget_me" in help_text


async def _stats(h: Harness) -> list[tuple[object, ...]]:
    scope = await staff_svc.current_scope(h.deps, MAYOR, [], MAYOR, False)
    assert scope is not None
    async with h.deps.db.read() as conn:
        rows = [tuple(r) for r in await conn.execute_fetchall(
            "SELECT id, category_id, house_id, neighbourhood_id, kind, status, close_reason, "
            "created_at, closed_at, due_at, first_response_at, rating FROM tickets ORDER BY id")]
    return rows


async def _indexed(conn: Conn, word: str) -> list[int]:
    """Ids of the tickets the search index finds `word` in (SQLite: the FTS table, checked
    for integrity too; PostgreSQL: the trigram-indexed folded text)."""
    if dialect.is_postgresql(conn):
        return [r[0] for r in await conn.execute_fetchall(
            f"SELECT t.id FROM tickets t WHERE {dialect.FOLDED_TEXT} LIKE ? ORDER BY t.id",
            (dialect.like_pattern(word),))]
    found = [r[0] for r in await conn.execute_fetchall(
        "SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?", (f'"{word}"',))]
    await conn.execute("INSERT INTO ticket_fts(ticket_fts) VALUES('integrity-check')")
    return found


async def test_retention_anonymises_after_the_retention_days(tmp_path: Path,
                                                              database_url: str) -> None:
    h = await start_harness(tmp_path, retention_days=30, database_url=database_url)
    try:
        await team(h)
        old = await file(h, text="سقف خانهٔ زهرا چکه می‌کند", phone="09121234567")
        kept = await file(h, text="لوله آشپزخانه ترکیده")
        await h.send(STAFF, f"/reply {old.code} فردا می‌آییم")
        await h.send(STAFF, f"/close {old.code} resolved تعمیر شد")
        await h.settle()          # nothing in flight when its request is anonymised
        h.clock.advance(timedelta(days=29))
        await h.send(STAFF, f"/close {kept.code} resolved درست شد")
        before = await _stats(h)
        assert await privacy.anonymise_due(h.deps) == 0       # 29 days: nothing yet
        h.clock.advance(timedelta(days=2))                    # old: 31 days, kept: 2
        assert await privacy.anonymise_due(h.deps) == 1
        assert await privacy.anonymise_due(h.deps) == 0       # once
        gone, still = await reload(h, old), await reload(h, kept)
        assert gone.text == "" and gone.phone is None and gone.lat is None
        assert still.text == "لوله آشپزخانه ترکیده"
        async with h.deps.db.read() as conn:
            bodies = [e.body for e in await repo.events(conn, old.id, public_only=False)]
            texts_left = await fetch_value(conn, "SELECT count(*) FROM outbox WHERE ticket_id = ?"
                                           " AND status = 'sent'", (old.id,))
            person = await people.get(conn, RESIDENT)
        assert bodies and all(b is None for b in bodies) and texts_left == 0
        assert person is not None and person.first_name == "زهرا"   # another request is kept
        assert await _stats(h) == before                       # statistics unchanged
        async with h.deps.db.read() as conn:     # the search index forgot it too
            indexed, kept_rows = await _indexed(conn, "چکه"), await _indexed(conn, "اشپزخانه")
        assert indexed == [] and kept_rows == [kept.id]
        found = texts(await h.send(STAFF, "/search چکه"))
        assert old.code not in found
        assert kept.code in texts(await h.send(STAFF, "/search آشپزخانه"))
        # Once every request of hers is anonymised, her name goes too.
        h.clock.advance(timedelta(days=31))
        assert await privacy.anonymise_due(h.deps) == 1
        async with h.deps.db.read() as conn:
            person = await people.get(conn, RESIDENT)
        assert person is not None and person.first_name == ""
    finally:
        await stop_harness(h)


async def test_forget_me_withdraws_open_requests_after_confirming(h: Harness) -> None:
    await team(h)
    done = await file(h, text="درخواست قدیمی و بسته")
    await h.send(STAFF, f"/close {done.code} resolved انجام شد")
    open_one = await file(h, text="درخواست باز دربارهٔ وام", phone="09121234567")
    question = (await h.send(RESIDENT, "/forget_me"))[-1]
    assert open_one.code in question["text"] and "برگشت" in question["text"]
    await h.press(RESIDENT, question, "نه")
    assert (await reload(h, open_one)).status is not Status.CLOSED
    question = (await h.send(RESIDENT, "/forget_me"))[-1]
    await h.press(RESIDENT, question, "بله")
    now = next(m for m in h.emu.chat(RESIDENT) if m["message_id"] == question["message_id"])
    assert "پاک شد" in now["text"] and open_one.code in now["text"]
    withdrawn = await reload(h, open_one)
    assert withdrawn.status is Status.CLOSED and withdrawn.close_reason is CloseReason.WITHDRAWN
    for ticket in (withdrawn, await reload(h, done)):
        assert ticket.text == "" and ticket.phone is None
    await h.settle()
    assert open_one.code in h.last(STAFF)["text"]           # the house was told
    async with h.deps.db.read() as conn:
        person = await people.get(conn, RESIDENT)
    assert person is not None and person.consent_at is None and person.phone is None
    assert person.first_name == ""


async def test_forget_me_leaves_requests_filed_for_others_and_retention_erases_them(
        tmp_path: Path, database_url: str) -> None:
    """A field-visit request not claimed yet has its filer as resident: the filer's
    /forget_me leaves it; retention erases the name and phone it was filed for."""
    from storage.base import iso

    h = await start_harness(tmp_path, retention_days=30, database_url=database_url)
    try:
        await team(h)
        mine = await file(h, resident=MAYOR, text="چراغ کوچه خاموش است")
        for_her = await file(h, resident=MAYOR, text="خانم احمدی برای دارو کمک می‌خواهد")
        now = iso(h.clock.now())
        async with h.deps.db.tx() as conn:
            visit_id = await fetch_value(
                conn, "INSERT INTO visits(filer_id, chat_id, neighbourhood_id, title, step, "
                "started_at, updated_at) VALUES (?, ?, ?, 'نشست', 'done', ?, ?) RETURNING id",
                (MAYOR, MAYOR, for_her.neighbourhood_id, now, now))
            await conn.execute(
                "INSERT INTO visit_requests(ticket_id, visit_id, filer_id, name, phone, "
                "created_at) VALUES (?, ?, ?, 'فاطمه احمدی', '09121234567', ?)",
                (for_her.id, visit_id, MAYOR, now))
        question = (await h.send(MAYOR, "/forget_me"))[-1]
        assert mine.code in question["text"] and for_her.code not in question["text"]
        await h.press(MAYOR, question, "بله")
        assert (await reload(h, mine)).text == ""
        kept = await reload(h, for_her)
        assert kept.text and kept.status is not Status.CLOSED
        async with h.deps.db.read() as conn:
            mayor = await people.get(conn, MAYOR)
        assert mayor is not None and mayor.first_name != ""        # a role keeps the name
        await h.send(STAFF, f"/close {for_her.code} resolved دارو رسید")
        h.clock.advance(timedelta(days=31))
        assert await privacy.anonymise_due(h.deps) >= 1
        async with h.deps.db.read() as conn:
            row = await fetch_value(conn, "SELECT name || '|' || coalesce(phone, '') "
                                          "FROM visit_requests WHERE ticket_id = ?",
                                    (for_her.id,))
        assert row == "|"
    finally:
        await stop_harness(h)
