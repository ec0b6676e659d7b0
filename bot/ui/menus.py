"""The main menu (a reply keyboard) and matching its button labels in every language."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from telegram import KeyboardButton, ReplyKeyboardMarkup

from bot.config import SUPPORTED_LOCALES
from bot.i18n import N_, Translator, translator


class MenuItem(StrEnum):
    NEW = "new"
    MINE = "mine"
    NEIGHBOURHOOD = "neighbourhood"
    LANGUAGE = "language"
    HELP = "help"


LABELS: dict[MenuItem, str] = {
    MenuItem.NEW: N_("📝 New request"),
    MenuItem.MINE: N_("📋 My requests"),
    MenuItem.NEIGHBOURHOOD: N_("📍 My neighbourhood"),
    MenuItem.LANGUAGE: N_("🌐 Language"),
    MenuItem.HELP: N_("❓ Help"),
}


def main_menu(tr: Translator) -> ReplyKeyboardMarkup:
    """Big buttons, two per row: easy to hit on a small phone. Made once per translator
    (it is sent with most replies; Telegram objects are immutable, so one is shared)."""
    return _main_menu(tr)


@lru_cache(maxsize=16)
def _main_menu(tr: Translator) -> ReplyKeyboardMarkup:
    label = {item: tr._(text) for item, text in LABELS.items()}
    rows = [
        [KeyboardButton(label[MenuItem.NEW]), KeyboardButton(label[MenuItem.MINE])],
        [KeyboardButton(label[MenuItem.NEIGHBOURHOOD]), KeyboardButton(label[MenuItem.HELP])],
        [KeyboardButton(label[MenuItem.LANGUAGE])],
    ]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


def all_labels(item: MenuItem) -> list[str]:
    """The label in every language: a user may press a button from before a language switch."""
    return sorted({translator(loc)._(LABELS[item]) for loc in SUPPORTED_LOCALES})


def match(text: str | None) -> MenuItem | None:
    if not text:
        return None
    for item in MenuItem:
        if text.strip() in all_labels(item):
            return item
    return None
