"""The outbox table: notifications written with the change that causes them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.models import OutboxMessage
from storage import dialect
from storage.base import fetch_all, fetch_value, iso, to_models
from storage.conn import Conn

_INSERT = """INSERT INTO outbox(idem_key, chat_id, ticket_id, kind, payload, not_before,
                                created_at) VALUES """
_IGNORED = " ON CONFLICT DO NOTHING RETURNING id"     # a key queued before: nothing, no row
# Seven values a row, well under both engines' limits on bound parameters per statement.
_ROWS_PER_STATEMENT = 500


async def enqueue(conn: Conn, *, idem_key: str, chat_id: int, kind: str,
                  payload: dict[str, Any], ticket_id: int | None, now: datetime,
                  not_before: datetime | None = None) -> bool:
    """Add a notification; False when the same idempotency key was queued before."""
    added = await fetch_all(conn, _INSERT + "(?, ?, ?, ?, ?, ?, ?)" + _IGNORED,
        (idem_key, chat_id, ticket_id, kind, json.dumps(payload, ensure_ascii=False),
         iso(not_before or now), iso(now)))
    return len(added) == 1


async def enqueue_many(conn: Conn,
                       rows: list[tuple[str, int, int | None, str, dict[str, Any],
                                        datetime | None]],
                       now: datetime) -> int:
    """(idem_key, chat_id, ticket_id, kind, payload, not_before) rows in one statement; rows
    whose key was queued before are ignored. Returns how many were added."""
    values = [(key, chat_id, ticket_id, kind, json.dumps(payload, ensure_ascii=False),
               iso(not_before or now), iso(now))
              for key, chat_id, ticket_id, kind, payload, not_before in rows]
    added = 0
    for start in range(0, len(values), _ROWS_PER_STATEMENT):
        chunk = values[start:start + _ROWS_PER_STATEMENT]
        sql = _INSERT + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk)) + _IGNORED
        added += len(await fetch_all(conn, sql, [v for row in chunk for v in row]))
    return added


async def due(conn: Conn, now: datetime, limit: int) -> list[OutboxMessage]:
    rows = await fetch_all(conn, """SELECT * FROM outbox
        WHERE status IN ('pending', 'sending') AND not_before <= ?
        ORDER BY id LIMIT ?""", (iso(now), limit))
    return to_models(OutboxMessage, rows)


async def mark_sending(conn: Conn, message_id: int) -> bool:
    """Set before the send: after a crash, 'sending' rows are the only ones maybe sent.
    False when the row is finished meanwhile (e.g. a receipt the handler delivered)."""
    cur = await conn.execute("""UPDATE outbox SET status='sending', attempts=attempts+1
                                WHERE id=? AND status IN ('pending', 'sending')""",
                             (message_id,))
    return cur.rowcount == 1


async def mark_sent_by_key(conn: Conn, idem_key: str,
                           telegram_message_id: int | None, now: datetime) -> bool:
    """Delivered by another path (a handler's direct reply); only a row not yet taken by
    the worker. False when the worker has it (then it may arrive twice, at most)."""
    cur = await conn.execute("""UPDATE outbox SET status='sent', sent_at=?, sent_message_id=?
                                WHERE idem_key=? AND status='pending'""",
                             (iso(now), telegram_message_id, idem_key))
    return cur.rowcount == 1


async def mark_sent(conn: Conn, message_id: int, telegram_message_id: int | None,
                    now: datetime) -> None:
    await conn.execute("""UPDATE outbox SET status='sent', sent_at=?, sent_message_id=?,
                          last_error=NULL WHERE id=?""",
                       (iso(now), telegram_message_id, message_id))


async def mark_retry(conn: Conn, message_id: int, not_before: datetime,
                     error: str) -> None:
    await conn.execute("""UPDATE outbox SET status='pending', not_before=?, last_error=?
                          WHERE id=?""", (iso(not_before), error, message_id))


async def mark_failed(conn: Conn, message_id: int, error: str) -> None:
    await conn.execute("UPDATE outbox SET status='failed', last_error=? WHERE id=?",
                       (error, message_id))


async def ticket_for_message(conn: Conn, chat_id: int,
                             telegram_message_id: int) -> int | None:
    """Which ticket a relayed message belongs to (for Telegram replies to it)."""
    value = await fetch_value(conn, """SELECT ticket_id FROM outbox
        WHERE chat_id = ? AND sent_message_id = ?""", (chat_id, telegram_message_id))
    return None if value is None else int(value)


async def pending_count(conn: Conn) -> int:
    return int(await fetch_value(conn, """SELECT count(*) FROM outbox
                                          WHERE status IN ('pending', 'sending')""") or 0)


async def unfinished_after(conn: Conn, after_id: int, limit: int
                           ) -> list[OutboxMessage]:
    """Rows still to deliver (also `sending`: the in-flight ones of a crashed run), by id."""
    rows = await fetch_all(conn, """SELECT * FROM outbox
        WHERE id > ? AND status IN ('pending', 'sending') ORDER BY id LIMIT ?""",
        (after_id, limit))
    return to_models(OutboxMessage, rows)


async def release_held(conn: Conn, kind: str, now: datetime) -> int:
    """Make held rows of `kind` due now (receipts held for a handler of a previous run,
    which can no longer deliver them)."""
    cur = await conn.execute("""UPDATE outbox SET not_before = ? WHERE kind = ?
                                AND status = 'pending' AND not_before > ?""",
                             (iso(now), kind, iso(now)))
    return max(cur.rowcount, 0)


async def note_error(conn: Conn, message_id: int, error: str) -> None:
    await conn.execute("UPDATE outbox SET last_error=? WHERE id=?", (error, message_id))


async def mark_part_sent(conn: Conn, message_id: int, parts_sent: int) -> None:
    """Long texts go out in parts; a retry must not repeat the parts already delivered."""
    await conn.execute(f"""UPDATE outbox SET payload = {dialect.json_set_number(
                              conn, "payload", "_parts_sent")} WHERE id=?""",
                       (parts_sent, message_id))
