"""A small but realistic database for the copy-db tests: reference data, people (Telegram ids
near 2**63, negative group chats), roles, tickets in Persian (one a duplicate of a LATER
ticket), events with JSON details, attachments, outbox rows, SLA actions, visits and visit
requests, forms, kv, NULLs everywhere they are allowed, floats (coordinates)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.services.reference import load_reference
from storage.db import SqliteDatabase, _split_sql, migration_files

BIG_ID = 2**63 - 7          # Telegram ids are 64-bit
GROUP_CHAT = -1001234567890

TEXTS = [
    "سقف خانه‌ام چکه می‌کند و آب به اتاق بچه‌ها می‌ریزد",
    "برق کوچهٔ ۱۲ از دیشب قطع است؛ لطفاً پیگیری کنید",
    "نیاز به ویلچر برای مادرم دارم — او ۸۰ سال دارد",
    "كوچه آسفالت ندارد (ي و ك عربی)",   # Arabic letters, folded by the search index
    "Text in English, with 'quotes' and \"double quotes\"\nand a newline",
    "🙂 emoji and \u200c zero-width non-joiner",
]


async def migrated(path: Path, version: int | None = None) -> Path:
    """An empty database migrated to `version` (default: the latest), no reference data."""
    if version is None:
        db = SqliteDatabase(path)
        await db.open()
        await db.close()
        return path
    conn = sqlite3.connect(path, isolation_level=None)
    for number, _name, sql in migration_files():
        if number > version:
            break
        for statement in _split_sql(sql):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    return path


async def realistic(path: Path, tickets: int = 40) -> Path:
    """Build the realistic database at `path` (migrated, reference loaded, rows inserted)."""
    db = SqliteDatabase(path)
    await db.open()
    await load_reference(db)
    await db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("BEGIN")
    conn.execute("PRAGMA defer_foreign_keys=ON")
    n_ids = [r[0] for r in conn.execute("SELECT id FROM neighbourhoods ORDER BY id LIMIT 3")]
    cats = list(conn.execute("SELECT id, default_house_id FROM categories ORDER BY id LIMIT 4"))
    now = "2026-11-25T08:00:00+00:00"
    people = [(1, "مریم", None, "fa", n_ids[0], "09121234567", now, None),
              (2, "Ali", "ali_staff", None, None, None, None, None),
              (3, "", None, "en", n_ids[1], None, None, "2026-11-20T10:00:00+00:00"),
              (BIG_ID, "رضا", "reza", None, n_ids[2], "09350000000", now, None)]
    conn.executemany("""INSERT INTO people(id, first_name, username, locale, neighbourhood_id,
        phone, consent_at, unreachable_at, created_at, updated_at)
        VALUES (?,?,?,?,?,?,?,?,?,?)""", [(*p, now, now) for p in people])
    conn.executemany("""INSERT INTO roles(person_id, role, house_id, scope_kind, scope_id,
        created_at, created_by, revoked_at) VALUES (?,?,?,?,?,?,?,?)""", [
        (2, "staff", cats[0][1], "neighbourhood", n_ids[0], now, None, None),
        (2, "supervisor", cats[0][1], "city", 1, now, 2, "2026-11-26T08:00:00+00:00"),
        (BIG_ID, "mayor", None, "neighbourhood", n_ids[2], now, None, None)])
    residents = [1, 3, BIG_ID]
    for i in range(1, tickets + 1):
        cat, house = cats[i % len(cats)]
        duplicate = tickets if i == 2 else None      # points at a ticket inserted later
        conn.execute("""INSERT INTO tickets(id, code, resident_id, neighbourhood_id, kind,
            category_id, house_id, text, phone, lat, lon, status, close_reason, duplicate_of,
            assignee_id, created_at, updated_at, window_started_at, due_at, sla_next_at,
            closed_at, rating, rating_comment, urgent, urgent_reason)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""", (
            i, f"K{i:07d}", residents[i % 3], n_ids[i % 3],
            ("need", "complaint", "suggestion")[i % 3], cat, house, TEXTS[i % len(TEXTS)],
            "09121234567" if i % 2 else None,
            35.6892 + i / 1000 if i % 4 == 0 else None, 51.389 if i % 4 == 0 else None,
            "closed" if i % 3 == 0 else "new", "resolved" if i % 3 == 0 else None, duplicate,
            2 if i % 5 == 0 else None, now, now, now, "2026-11-28T08:00:00+00:00",
            None if i % 3 == 0 else "2026-11-26T08:00:00+00:00",
            now if i % 3 == 0 else None, (i % 5) + 1 if i % 3 == 0 else None,
            "خیلی ممنون" if i % 6 == 0 else None, 1 if i % 7 == 0 else 0,
            "سالمند تنها" if i % 7 == 0 else None))
        conn.execute("""INSERT INTO ticket_events(ticket_id, at, actor_id, actor_role, action,
            public, body, details) VALUES (?,?,?,?,?,?,?,?)""", (
            i, now, residents[i % 3], "resident", "created", 1, None,
            json.dumps({"kind": "need", "چند": [1, 2.5, None], "z": True}, ensure_ascii=False)))
        if i % 4 == 0:
            event = conn.execute("""INSERT INTO ticket_events(ticket_id, at, actor_id,
                actor_role, action, public, body, details) VALUES (?,?,?,?,?,?,?,?)""", (
                i, now, 2, "staff", "answered", 0, "در حال بررسی است", "{}")).lastrowid
            conn.execute("""INSERT INTO ticket_attachments(ticket_id, event_id, kind, file_id,
                file_unique_id, caption, created_at) VALUES (?,?,?,?,?,?,?)""",
                         (i, event, "photo", f"AgAC{i}x", None, "عکس سقف", now))
        conn.execute("""INSERT INTO outbox(idem_key, chat_id, ticket_id, kind, payload, status,
            attempts, not_before, created_at, sent_at, sent_message_id, last_error)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""", (
            f"ack:{i}", GROUP_CHAT if i % 2 else BIG_ID, i, "ack",
            json.dumps({"text": TEXTS[i % len(TEXTS)], "parse_mode": None}, ensure_ascii=False),
            "sent" if i % 2 else "pending", i % 3, now, now, now if i % 2 else None,
            1000 + i if i % 2 else None, None if i % 2 else "Forbidden: bot was blocked"))
        if i % 5 == 0:
            conn.execute("INSERT INTO sla_actions(ticket_id, window_no, action, at) "
                         "VALUES (?, 1, 'remind', ?)", (i, now))
    conn.execute("""INSERT INTO visits(id, filer_id, chat_id, neighbourhood_id, title, held_at,
        lat, lon, step, draft, started_at, ended_at, updated_at)
        VALUES (1, 2, ?, ?, 'بازدید محله', ?, 35.7, 51.4, 'done', NULL, ?, ?, ?),
               (2, 2, 2, NULL, '', NULL, NULL, NULL, 'place', '{"a": 1}', ?, NULL, ?)""",
                 (GROUP_CHAT, n_ids[0], now, now, now, now, now, now))
    conn.execute("""INSERT INTO visit_requests(ticket_id, visit_id, filer_id, name, phone,
        claimed_by, claimed_at, failed_tries, locked_until, handover_token, handover_until,
        created_at) VALUES (1, 1, 2, 'خانم احمدی', '09120000000', 1, ?, 0, NULL, NULL, NULL, ?),
        (4, 1, 2, 'آقای رضایی', NULL, NULL, NULL, 3, ?, 'tok-1', ?, ?)""",
                 (now, now, now, now, now))
    conn.executemany("INSERT INTO processed_updates(update_id, at) VALUES (?, ?)",
                     [(u, now) for u in (1, 2, 900_000_001)])
    conn.execute("INSERT INTO forms(person_id, data, updated_at) VALUES (1, ?, ?)",
                 (json.dumps({"step": "text", "values": {"متن": "سلام"}}, ensure_ascii=False),
                  now))
    conn.executemany("INSERT INTO kv(key, value) VALUES (?, ?)",
                     [("a", "1"), ("B", "2"), ("ب", "3"), ("flood:1", "[1, 2]")])
    conn.execute("COMMIT")
    conn.close()
    return path
