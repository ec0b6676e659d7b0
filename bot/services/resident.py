"""Resident-side helpers shared with staff services (the full module lives on the resident
branch; this copy holds only what closing a ticket needs)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.i18n import Translator
from storage.models import Ticket


def closure_markup(tr: Translator, ticket: Ticket) -> InlineKeyboardMarkup:
    """Stars to rate the answer, and a way to say the problem is not solved (reopen)."""
    stars = [InlineKeyboardButton("⭐" * n, callback_data=callbacks.build("rate", "stars",
                                                                          ticket.id, n))
             for n in range(1, 6)]
    return InlineKeyboardMarkup([
        stars[:3], stars[3:],
        [InlineKeyboardButton(tr._("🔁 Not resolved"),
                              callback_data=callbacks.build("rate", "unresolved", ticket.id))],
    ])
