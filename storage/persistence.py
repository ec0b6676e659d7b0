"""PTB persistence in SQLite as JSON (not pickle): conversations and user/chat data survive a
restart, and the stored state stays readable and safe to load.

user_data/chat_data must hold JSON types only (str, int, float, bool, None, list, dict).
"""

from __future__ import annotations

import json
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage import forms
from storage.base import fetch_all
from storage.db import Database

Data = dict[Any, Any]
FORMS_CONVERSATION = "resident"   # its states live in the forms table


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SQLitePersistence(BasePersistence[Data, Data, Data]):
    def __init__(self, db: Database, update_interval: float = 5.0) -> None:
        super().__init__(store_data=PersistenceInput(bot_data=False, callback_data=False),
                         update_interval=update_interval)
        self.db = db

    async def _load(self, kind: str) -> dict[int, Data]:
        await self.db.open()
        async with self.db.read() as conn:
            rows = await fetch_all(conn, "SELECT id, data FROM persisted_data WHERE kind = ?",
                                   (kind,))
        return {int(r[0]): json.loads(r[1]) for r in rows}

    async def _save(self, kind: str, key: int, data: Data) -> None:
        async with self.db.tx() as conn:
            await conn.execute("""
                INSERT INTO persisted_data(kind, id, data, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(kind, id) DO UPDATE SET data=excluded.data,
                    updated_at=excluded.updated_at""",
                (kind, key, json.dumps(data, ensure_ascii=False), _now()))

    async def _drop(self, kind: str, key: int) -> None:
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
            if name == FORMS_CONVERSATION:
                for key, state in (await forms.states(conn)).items():
                    found[key] = state
        return found

    async def update_conversation(self, name: str, key: ConversationKey,
                                  new_state: object | None) -> None:
        async with self.db.tx() as conn:
            if name == FORMS_CONVERSATION:   # kept with the form: drop the old row, if any
                await conn.execute("DELETE FROM conversations WHERE name = ? AND key = ?",
                                   (name, json.dumps(list(key))))
                return
            if new_state is None:
                await conn.execute("DELETE FROM conversations WHERE name = ? AND key = ?",
                                   (name, json.dumps(list(key))))
            else:
                await conn.execute("""
                    INSERT INTO conversations(name, key, state, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(name, key) DO UPDATE SET state=excluded.state,
                        updated_at=excluded.updated_at""",
                    (name, json.dumps(list(key)), json.dumps(new_state), _now()))

    async def update_user_data(self, user_id: int, data: Data) -> None:
        await self._save("user", user_id, deepcopy(data))

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        await self._save("chat", chat_id, deepcopy(data))

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
        return None


__all__: list[str] = ["SQLitePersistence"]
