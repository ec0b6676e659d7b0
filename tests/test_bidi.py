"""Mixed-direction text: Latin tracking codes, /commands, phone numbers and Latin names stay
in order inside Persian sentences (issue 11, item 1).

The one helper is `bot.domain.text.bidi_text`; `bot.ui.bidi.BidiBot` applies it to every
text the bot sends, and `tests.harness.stop_harness` checks every message of every
end-to-end test with `unmarked_items`. Here: the helper's rules, every catalogue template
in fa and en, the parsers taking codes back with the marks, and the texts the bot sends.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from bot.domain.text import (
    LRM,
    RLM,
    bidi_text,
    is_rtl,
    ltr_items,
    normalize,
    normalize_tracking_code,
    strip_marks,
    unmarked_items,
)
from bot.services.staff import Ref
from bot.ui.bidi import mark_request
from tests.catalogue import strings
from tests.harness import Harness, readable
from tests.resident_steps import file_via_bot, onboard

ROOT = Path(__file__).resolve().parent.parent
CODE = "EMMMA6"
COMMAND = "/status EMMMA6"
PHONE = "+98 912 123 4567"
NAME = "Reza Ahmadi"


# ------------------------------------------------------------------ the helper

@pytest.mark.parametrize(("text", "expected"), [
    # the three places people ran into (issue 11)
    ("یا /status EMMMA6", f"یا {LRM}/status EMMMA6{RLM}"),
    ("برای لغو /cancel)", f"برای لغو {LRM}/cancel{RLM})"),
    ("درخواست EMMMA6: ۱ پیوست", f"درخواست {LRM}EMMMA6{RLM}: ۱ پیوست"),
    # a phone number keeps its plus sign and the order of its groups
    ("تلفن: +98 912 123 4567، لطفاً", f"تلفن: {LRM}+98 912 123 4567{RLM}، لطفاً"),
    ("تلفن: ۰۹۱۲ ۱۲۳ ۴۵۶۷", f"تلفن: {LRM}۰۹۱۲ ۱۲۳ ۴۵۶۷{RLM}"),
    # a Latin name, a link
    ("سلام Reza Ahmadi! خوش آمدید.", f"سلام {LRM}Reza Ahmadi{RLM}! خوش آمدید."),
    ("پیوند: https://t.me/bot?start=inv_AB", f"پیوند: {LRM}https://t.me/bot?start=inv_AB{RLM}"),
    # a code that is the point of the message stands on its own line, bare (copied clean)
    ("کد پیگیری شما:\nEMMMA6\nخانه احسان", "کد پیگیری شما:\nEMMMA6\nخانه احسان"),
    # a Persian line that starts with a code still reads right to left
    ("EMMMA6 · دریافت شد · قائمیه", f"{RLM}{LRM}EMMMA6{RLM} · دریافت شد · قائمیه"),
    # Persian digits, dates and times need nothing
    ("۷ آذر ۱۴۰۵، ساعت ۱۴:۳۰", "۷ آذر ۱۴۰۵، ساعت ۱۴:۳۰"),
])
def test_persian_sentences(text: str, expected: str) -> None:
    assert bidi_text(text) == expected
    assert bidi_text(expected) == expected            # idempotent
    assert not unmarked_items(expected)


def test_english_sentences_keep_their_direction() -> None:
    text = "Your request EMMMA6 was sent to قائمیه. Follow it with /status EMMMA6."
    assert not is_rtl(text)
    marked = bidi_text(text)
    assert RLM not in marked and not unmarked_items(marked)
    assert strip_marks(marked) == text


def test_direction_is_the_language_of_the_words_not_of_codes_or_links() -> None:
    assert is_rtl("پیوند دعوت ساخته شد: https://t.me/mahalleyar_bot?start=inv_ABCDEFGH")
    assert is_rtl("بنویسید: /route EMMMA6 welfare دلیل")
    assert not is_rtl("Welcome! Your new role: خانه امداد")


def test_no_isolates_only_plain_marks() -> None:
    marked = bidi_text(f"درخواست {CODE} با تلفن {PHONE} و {COMMAND}")
    assert not set(marked) & {"\u2066", "\u2067", "\u2068", "\u2069", "\u202a", "\u202b"}


# ------------------------------------------------------------------ every template, fa and en

def _templates(locale: str) -> list[tuple[str, str]]:
    return strings(locale)


SAMPLES = [CODE, COMMAND, PHONE, NAME]


def _render(template: str) -> tuple[str, list[str]]:
    """The template with every placeholder filled by a Latin code, a command, a phone
    number or a Latin name, in turn; returns the text and what was put in."""
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    values = {f: SAMPLES[i % len(SAMPLES)] for i, f in enumerate(dict.fromkeys(fields))}
    return template.format(**values), list(values.values())


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_every_template_keeps_codes_commands_and_phones_in_order(locale: str) -> None:
    checked = 0
    for msgid, template in _templates(locale):
        text, inserted = _render(template)
        data = {"text": text}
        mark_request(data)                 # exactly what BidiBot does before sending
        sent = str(data["text"])
        assert strip_marks(sent) == strip_marks(text), msgid
        assert not unmarked_items(sent), (msgid, unmarked_items(sent))
        for item in inserted:                  # nothing lost or split by a foreign mark
            assert item in strip_marks(sent), (msgid, item)
        checked += 1
    assert checked > 300


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_codes_in_templates_parse_back_with_their_marks(locale: str) -> None:
    """What a person copies from a sent text (the code with the marks around it) is read
    back as the code by every parser."""
    for msgid, template in _templates(locale):
        if "{code}" not in template:
            continue
        sent = bidi_text(template.format_map(_Default(code=CODE)))
        start, end = sent.index(CODE), sent.index(CODE) + len(CODE)
        while start > 0 and sent[start - 1] in (LRM, RLM):
            start -= 1
        while end < len(sent) and sent[end] in (LRM, RLM):
            end += 1
        copied = sent[start:end]                # the code with the marks selected with it
        assert normalize_tracking_code(copied) == CODE, (msgid, copied)
        assert Ref.parse(copied).code == CODE
        assert normalize(copied) == CODE.lower()


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "x"


def test_marks_never_push_a_text_over_telegrams_limit() -> None:
    text = ("درخواست EMMMA6 " * 400)[:4096]
    data = {"text": text, "caption": "کد EMMMA6"}
    mark_request(data)
    assert data["text"] == text                       # marked it would be too long
    assert data["caption"] == f"کد {LRM}EMMMA6{RLM}"
    html_text = {"text": "<b>EMMMA6</b> درخواست", "parse_mode": "HTML"}
    mark_request(html_text)
    assert html_text["text"] == "<b>EMMMA6</b> درخواست"   # markup is left alone


def test_items_are_what_people_type() -> None:
    assert ltr_items("با /reply EMMMA6 #1 پاسخ دهید") == ["/reply EMMMA6 #1"]
    assert ltr_items("ساعت ۱۴:۳۰ و ۱۲ نفر") == []


# ------------------------------------------------------------------ what the bot sends

R = 6301
STAFF = 6302


async def test_receipt_and_status_as_sent_in_persian(h: Harness) -> None:
    await onboard(h, R)
    code = await file_via_bot(h, R)
    receipt = h.emu.last_bot_message(R)
    assert receipt is not None
    raw = receipt["text"]
    assert f"\n{code}\n" in raw                      # the point of the message, on its own line
    assert f"{LRM}/status {code}{RLM}" in raw        # the command inside the sentence, marked
    assert "خانه بهزیستی تا" in readable(receipt)["text"]   # the house is named
    # The resident copies the marked command back (as Telegram clients copy it).
    replies = await h.send(R, f"/status {LRM}{code}{RLM}")
    assert f"درخواست {code}" in replies[-1]["text"]
    assert f"{LRM}{code}{RLM}" in replies[-1]["raw_text"]


async def test_english_reader_gets_marked_text_too(h: Harness) -> None:
    h.user(R, "Reza", language_code="en")
    await h.send(R, "/language")
    replies = await h.send(R, "/status EMMMA6")
    text = replies[-1]["raw_text"]
    assert "EMMMA6" in text and not unmarked_items(text)


async def test_staff_command_with_a_copied_code(h: Harness) -> None:
    from tests.staff_helpers import add_role, file

    await add_role(h, STAFF, "staff", "welfare", "neighbourhood", "ISL01")
    ticket = await file(h, category="housing")
    replies = await h.send(STAFF, f"/show {LRM}{ticket.code}{RLM}")
    assert ticket.code in replies[-1]["text"]
    assert not unmarked_items(replies[-1]["raw_text"])
