"""Staff and mayor prompts waiting for a Telegram reply, and ticket cards the bot sent:
both keyed by chat and message (tables of migration 0003)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.base import fetch_one, fetch_value, iso
from storage.conn import Conn


@dataclass(frozen=True)
class Prompt:
    """«Write the reason…» sent as message `message_id` in `chat_id`: a reply to it by
    `person_id` does `action` on the ticket (`extra`: e.g. the house code or close reason)."""

    chat_id: int
    message_id: int
    person_id: int
    action: str
    ticket_id: int
    extra: str = ""


async def add_prompt(conn: Conn, prompt: Prompt, now: datetime) -> None:
    await conn.execute("""
        INSERT INTO prompts(chat_id, message_id, person_id, action, ticket_id, extra,
                            created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(chat_id, message_id) DO UPDATE SET person_id = excluded.person_id,
            action = excluded.action, ticket_id = excluded.ticket_id, extra = excluded.extra,
            created_at = excluded.created_at""",
        (prompt.chat_id, prompt.message_id, prompt.person_id, prompt.action,
         prompt.ticket_id, prompt.extra, iso(now)))


async def take_prompt(conn: Conn, chat_id: int, message_id: int,
                      person_id: int) -> Prompt | None:
    """The prompt this person may answer, removed so it is answered once."""
    row = await fetch_one(conn, """
        SELECT chat_id, message_id, person_id, action, ticket_id, extra FROM prompts
        WHERE chat_id = ? AND message_id = ? AND person_id = ?""",
        (chat_id, message_id, person_id))
    if row is None:
        return None
    await conn.execute("DELETE FROM prompts WHERE chat_id = ? AND message_id = ?",
                       (chat_id, message_id))
    return Prompt(int(row["chat_id"]), int(row["message_id"]), int(row["person_id"]),
                  str(row["action"]), int(row["ticket_id"]), str(row["extra"]))


async def take_latest_prompt(conn: Conn, chat_id: int, person_id: int, *,
                             since: datetime) -> Prompt | None:
    """This person's newest prompt in this chat made after `since`, removed (the next plain
    message in a private chat answers it)."""
    row = await fetch_one(conn, """
        SELECT chat_id, message_id, person_id, action, ticket_id, extra FROM prompts
        WHERE chat_id = ? AND person_id = ? AND created_at >= ?
        ORDER BY created_at DESC, message_id DESC LIMIT 1""",
        (chat_id, person_id, iso(since)))
    if row is None:
        return None
    await conn.execute("DELETE FROM prompts WHERE chat_id = ? AND message_id = ?",
                       (row["chat_id"], row["message_id"]))
    return Prompt(int(row["chat_id"]), int(row["message_id"]), int(row["person_id"]),
                  str(row["action"]), int(row["ticket_id"]), str(row["extra"]))


async def drop_prompts(conn: Conn, chat_id: int, person_id: int, *,
                       since: datetime) -> int:
    """/cancel: forget this person's prompts in this chat made after `since`."""
    cursor = await conn.execute(
        "DELETE FROM prompts WHERE chat_id = ? AND person_id = ? AND created_at >= ?",
        (chat_id, person_id, iso(since)))
    return cursor.rowcount or 0


async def prune_prompts(conn: Conn, chat_id: int, person_id: int, *,
                        before: datetime, keep: int) -> None:
    """Drop prompts older than `before`, and all but this person's `keep` newest here."""
    await conn.execute("DELETE FROM prompts WHERE created_at < ?", (iso(before),))
    await conn.execute("""
        DELETE FROM prompts WHERE chat_id = ? AND person_id = ? AND message_id NOT IN (
            SELECT message_id FROM prompts WHERE chat_id = ? AND person_id = ?
            ORDER BY message_id DESC LIMIT ?)""",
        (chat_id, person_id, chat_id, person_id, keep))


async def add_card(conn: Conn, chat_id: int, message_id: int, ticket_id: int,
                   now: datetime) -> None:
    await conn.execute("""
        INSERT INTO card_messages(chat_id, message_id, ticket_id, created_at)
        VALUES (?, ?, ?, ?)
        ON CONFLICT(chat_id, message_id) DO UPDATE SET ticket_id = excluded.ticket_id,
            created_at = excluded.created_at""", (chat_id, message_id, ticket_id, iso(now)))


async def card_ticket(conn: Conn, chat_id: int, message_id: int) -> int | None:
    value = await fetch_value(conn, """SELECT ticket_id FROM card_messages
        WHERE chat_id = ? AND message_id = ?""", (chat_id, message_id))
    return None if value is None else int(value)


async def prune_cards(conn: Conn, chat_id: int, *, before: datetime,
                      keep: int) -> None:
    """Drop cards older than `before`, and all but the `keep` newest of this chat."""
    await conn.execute("DELETE FROM card_messages WHERE created_at < ?", (iso(before),))
    await conn.execute("""
        DELETE FROM card_messages WHERE chat_id = ? AND message_id NOT IN (
            SELECT message_id FROM card_messages WHERE chat_id = ?
            ORDER BY message_id DESC LIMIT ?)""", (chat_id, chat_id, keep))
