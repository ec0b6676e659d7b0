"""The Persian catalogue speaks with one vocabulary (locales/glossary.csv) and writes Persian
the way it is printed: ZWNJ in «می‌» and «‌ها», Persian letters and punctuation."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.catalogue import strings

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "locales" / "glossary.csv"
FA = ROOT / "locales" / "fa" / "LC_MESSAGES" / "messages.po"


def _fa_strings() -> list[tuple[str, str]]:
    return strings("fa")


def _glossary() -> list[dict[str, str]]:
    with GLOSSARY.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_glossary_is_well_formed() -> None:
    rows = _glossary()
    assert rows and all(r["preferred"].strip() and r["banned"].strip() and r["note"].strip()
                        for r in rows)
    preferred = {r["preferred"] for r in rows}
    for row in rows:
        for banned in row["banned"].split("|"):
            assert banned and banned not in preferred, banned


@pytest.mark.parametrize("row", _glossary(), ids=lambda r: r["preferred"])
def test_catalogue_uses_the_preferred_term(row: dict[str, str]) -> None:
    strings = _fa_strings()
    for banned in row["banned"].split("|"):
        # A whole word or the start of a compound («برداشته‌شده»), not part of a longer
        # word («روی همین» is not «روی هم»).
        word = re.compile(rf"(?<![\u0600-\u06ff\u200c]){re.escape(banned)}(?![\u0600-\u06ff])")
        hits = [msgid for msgid, text in strings if word.search(text)]
        assert not hits, f"«{banned}» → «{row['preferred']}» ({row['note']}): {hits[:3]}"


# Letters/punctuation that are not Persian where Persian ones exist; «می» written apart;
# straight quotes where Persian uses guillemets; a Latin comma/semicolon/question mark
# inside Persian text.
CHECKS = {
    "Arabic ي or ك": re.compile(r"[\u064a\u0643]"),
    "«می» without ZWNJ": re.compile(r"(?:^|[\s(«])(?:ن?می) (?=[\u0600-\u06ff])"),
    "«ها» without ZWNJ": re.compile(r"[\u0600-\u06ff] (?:ها|های|هایی|هایم|هایتان)(?=[\s.،؛:)»]|$)"),
    "straight quotes": re.compile(r"\"[^\"]*[\u0600-\u06ff]"),
    "Latin punctuation in Persian": re.compile(
        r"[\u0600-\u06ff]\s*[,;?]|[,;?]\s*[\u0600-\u06ff]"),
    "space before punctuation": re.compile(r"[\u0600-\u06ff] [،؛؟.!:]"),
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_catalogue_writes_persian(name: str) -> None:
    pattern = CHECKS[name]
    hits = [(msgid, text) for msgid, text in _fa_strings() if pattern.search(text)]
    assert not hits, f"{name}: {hits[:3]}"


def test_questions_end_with_the_persian_question_mark() -> None:
    with FA.open("rb") as handle:
        catalog = read_po(handle, locale="fa")
    for message in catalog:
        if isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            if message.id.rstrip().endswith("?") and re.search("[\u0600-\u06ff]",
                                                               message.string):
                assert message.string.rstrip().endswith("؟"), message.id
