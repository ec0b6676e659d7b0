"""Prompts («write the reason…») and ticket cards the bot sent to staff and mayors, kept in
our own tables per chat: a Telegram reply to either acts on its ticket, also after a
restart. Each call is one transaction."""

from __future__ import annotations

from datetime import timedelta

from bot.deps import Deps
from storage import outbox
from storage import prompts as repo
from storage.prompts import Prompt

__all__ = ["Prompt", "answer_prompt", "cancel_pending", "card_ticket", "pending_prompt",
           "save_card", "save_prompt"]

MAX_PROMPTS = 20          # per person and chat
MAX_CARDS = 200           # per chat
PROMPT_DAYS = 7
CARD_DAYS = 90
# In a private chat the next plain message of the person answers their newest prompt made
# within this many minutes (a Telegram reply to a prompt works for PROMPT_DAYS).
PENDING_MINUTES = 10


async def save_prompt(deps: Deps, prompt: Prompt) -> None:
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        await repo.add_prompt(conn, prompt, now)
        await repo.prune_prompts(conn, prompt.chat_id, prompt.person_id,
                                 before=now - timedelta(days=PROMPT_DAYS), keep=MAX_PROMPTS)


async def answer_prompt(deps: Deps, chat_id: int, message_id: int, person_id: int
                        ) -> Prompt | None:
    """The prompt this person replied to (used up), or None."""
    async with deps.db.tx() as conn:
        return await repo.take_prompt(conn, chat_id, message_id, person_id)


async def pending_prompt(deps: Deps, chat_id: int, person_id: int) -> Prompt | None:
    """The prompt a plain (not replying) message of this person in this chat answers: their
    newest one of the last PENDING_MINUTES (used up), or None."""
    since = deps.clock.now() - timedelta(minutes=PENDING_MINUTES)
    async with deps.db.tx() as conn:
        return await repo.take_latest_prompt(conn, chat_id, person_id, since=since)


async def cancel_pending(deps: Deps, chat_id: int, person_id: int) -> bool:
    """/cancel: drop the person's waiting prompts here; whether there were any."""
    since = deps.clock.now() - timedelta(minutes=PENDING_MINUTES)
    async with deps.db.tx() as conn:
        return await repo.drop_prompts(conn, chat_id, person_id, since=since) > 0


async def save_card(deps: Deps, chat_id: int, message_id: int, ticket_id: int) -> None:
    now = deps.clock.now()
    async with deps.db.tx() as conn:
        await repo.add_card(conn, chat_id, message_id, ticket_id, now)
        await repo.prune_cards(conn, chat_id, before=now - timedelta(days=CARD_DAYS),
                               keep=MAX_CARDS)


async def card_ticket(deps: Deps, chat_id: int, message_id: int) -> int | None:
    """The ticket of a card or of a relayed notification (outbox) in this chat."""
    async with deps.db.read() as conn:
        ticket_id = await repo.card_ticket(conn, chat_id, message_id)
        if ticket_id is None:
            ticket_id = await outbox.ticket_for_message(conn, chat_id, message_id)
        return ticket_id
