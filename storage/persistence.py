"""PTB persistence in SQLite as JSON (not pickle): conversations and user/chat data survive a
restart, and the stored state stays readable and safe to load.

user_data/chat_data must hold JSON types only (str, int, float, bool, None, list, dict).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage import forms
from storage.base import fetch_all
from storage.db import Database

Data = dict[Any, Any]
Key = tuple[str, int]        # ("user" | "chat", id)
EMPTY = "{}"
FORMS_CONVERSATION = "resident"   # its states live in the forms table


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SQLitePersistence(BasePersistence[Data, Data, Data]):
    """PTB hands every touched user's and chat's data to `update_user_data` /
    `update_chat_data` about once a second; only what differs from what is stored is
    written, and everything handed over in one round goes in one transaction."""

    def __init__(self, db: Database, update_interval: float = 5.0) -> None:
        super().__init__(store_data=PersistenceInput(bot_data=False, callback_data=False),
                         update_interval=update_interval)
        self.db = db
        self._stored: dict[Key, str] = {}          # what the table holds (JSON text)
        self._pending: dict[Key, str] = {}         # to write in the next batch
        self._batch: asyncio.Future[None] | None = None
        self._conversation_rows: set[tuple[str, str]] = set()

    async def _load(self, kind: str) -> dict[int, Data]:
        await self.db.open()
        async with self.db.read() as conn:
            rows = await fetch_all(conn, "SELECT id, data FROM persisted_data WHERE kind = ?",
                                   (kind,))
        for r in rows:
            self._stored[(kind, int(r[0]))] = str(r[1])
        return {int(r[0]): json.loads(r[1]) for r in rows}

    async def _save(self, kind: str, key: int, data: Data) -> None:
        text = json.dumps(data, ensure_ascii=False)
        if self._pending.get((kind, key), self._stored.get((kind, key), EMPTY)) == text:
            return                                  # unchanged: nothing to write
        self._pending[(kind, key)] = text
        if self._batch is None:
            self._batch = asyncio.ensure_future(self._write_batch())
        await asyncio.shield(self._batch)

    async def _write_batch(self) -> None:
        await asyncio.sleep(0)          # the other saves of this round join the batch
        pending, self._pending, self._batch = self._pending, {}, None
        if not pending:
            return
        async with self.db.tx() as conn:
            await conn.executemany("""
                INSERT INTO persisted_data(kind, id, data, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(kind, id) DO UPDATE SET data=excluded.data,
                    updated_at=excluded.updated_at""",
                [(kind, key, text, _now()) for (kind, key), text in pending.items()])
        self._stored.update(pending)

    async def _drop(self, kind: str, key: int) -> None:
        self._pending.pop((kind, key), None)
        if self._stored.pop((kind, key), None) is None:
            return
        async with self.db.tx() as conn:
            await conn.execute("DELETE FROM persisted_data WHERE kind = ? AND id = ?",
                               (kind, key))

    async def get_user_data(self) -> dict[int, Data]:
        return await self._load("user")

    async def get_chat_data(self) -> dict[int, Data]:
        return await self._load("chat")

    async def get_bot_data(self) -> Data:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def get_conversations(self, name: str) -> ConversationDict:
        """The states of a conversation. The resident conversation's states are the steps of
        the open forms (`storage.forms`, written with each step); rows of the conversations
        table from before that count only where no form says otherwise."""
        await self.db.open()
        async with self.db.read() as conn:
            rows = await fetch_all(conn, "SELECT key, state FROM conversations WHERE name = ?",
                                   (name,))
            found: ConversationDict = {tuple(json.loads(r[0])): json.loads(r[1]) for r in rows}
            self._conversation_rows.update((name, str(r[0])) for r in rows)
            if name == FORMS_CONVERSATION:
                for key, state in (await forms.states(conn)).items():
                    found[key] = state
        return found

    async def update_conversation(self, name: str, key: ConversationKey,
                                  new_state: object | None) -> None:
        row = (name, json.dumps(list(key)))
        if (name == FORMS_CONVERSATION or new_state is None) \
                and row not in self._conversation_rows:
            return       # the forms table keeps it, and there is no old row to drop
        async with self.db.tx() as conn:
            if name == FORMS_CONVERSATION or new_state is None:
                # the resident conversation is kept with the form: drop the old row
                await conn.execute("DELETE FROM conversations WHERE name = ? AND key = ?", row)
                self._conversation_rows.discard(row)
            else:
                self._conversation_rows.add(row)
                await conn.execute("""
                    INSERT INTO conversations(name, key, state, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name, key) DO UPDATE SET state=excluded.state,
                        updated_at=excluded.updated_at""",
                    (name, json.dumps(list(key)), json.dumps(new_state), _now()))

    async def update_user_data(self, user_id: int, data: Data) -> None:
        await self._save("user", user_id, data)

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        await self._save("chat", chat_id, data)

    async def update_bot_data(self, data: Data) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._drop("chat", chat_id)

    async def drop_user_data(self, user_id: int) -> None:
        await self._drop("user", user_id)

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Data) -> None:
        return None

    async def flush(self) -> None:
        if self._batch is not None:
            await asyncio.shield(self._batch)
        if self._pending:
            self._batch = asyncio.ensure_future(self._write_batch())
            await self._batch


__all__: list[str] = ["SQLitePersistence"]
