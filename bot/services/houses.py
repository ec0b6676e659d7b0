"""Naming a service house in a command: its code (`welfare`) or its name in Persian or
English, with or without «خانه»/"house", with or without ZWNJ or spaces, in Arabic or
Persian letters («خانه‌ی امداد», «امداد», «كميته امداد» does not: only the house's names)."""

from __future__ import annotations

from bot.domain.models import House
from bot.domain.text import compact
from storage import places
from storage.conn import Conn

_PREFIXES = (compact("خانه"), "house")
MAX_WORDS = 4
# How people also call a house (by its code): the organisation behind it.
ALIASES: dict[str, tuple[str, ...]] = {
    "welfare": ("سازمان بهزیستی",),
    "relief": ("کمیته امداد", "کمیته امداد امام خمینی"),
    "ehsan": ("ستاد اجرایی",),
    "redcrescent": ("هلال احمر", "جمعیت هلال احمر", "خانه هلال احمر"),
}


def house_keys(house: House) -> set[str]:
    """Every spelling that names this house, compacted (`bot.domain.text.compact`)."""
    keys = {compact(house.code), *(compact(a) for a in ALIASES.get(house.code, ()))}
    for name in (house.name_fa, house.name_en):
        key = compact(name)
        keys.add(key)
        for prefix in _PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                keys.add(key[len(prefix):])
            if key.endswith(prefix) and len(key) > len(prefix):
                keys.add(key[:-len(prefix)])
    # «خانه‌ی احسان», «خانهٔ احسان»: the ezafe after «خانه» is part of the prefix.
    keys |= {compact("خانه ی") + k for k in set(keys)}
    return keys


def match_house(houses: list[House], text: str) -> House | None:
    key = compact(text)
    if not key:
        return None
    return next((h for h in houses if key in house_keys(h)), None)


async def split_house(conn: Conn, text: str) -> tuple[House | None, str]:
    """The house named at the start of `text` (the longest run of words that names one) and
    the rest (the reason); (None, text) when it starts with no house."""
    houses = await places.houses(conn)
    words = text.split()
    for count in range(min(MAX_WORDS, len(words)), 0, -1):
        found = match_house(houses, " ".join(words[:count]))
        if found is not None:
            rest = text.strip()
            for word in words[:count]:
                rest = rest[rest.index(word) + len(word):]
            return found, rest.strip()
    return None, text
