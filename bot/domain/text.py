"""Persian text helpers: normalisation, digits, fuzzy search and tracking codes.

Everything here is pure (no Telegram, no SQL, no I/O) and safe to call from any layer.

Normalisation rule set (``normalize``), applied in this order and repeated until nothing
changes, so that ``normalize`` is idempotent:

1. Unicode NFKC (folds Arabic presentation forms such as ``ﻻ`` and fullwidth Latin),
   then ``str.casefold`` (Latin only matters here).
2. Letter unification, a deliberately small set:
   ``ي ى ئ`` → ``ی``; ``ك`` → ``ک``; ``ة ۀ ە`` → ``ه``; ``أ إ آ ٱ`` → ``ا``; ``ؤ`` → ``و``.
3. Digits: Persian ``۰-۹`` and Arabic-Indic ``٠-٩`` → ASCII ``0-9``.
4. Removed: harakat and other Arabic combining marks U+064B–U+065F, superscript alef
   U+0670, tatweel U+0640, bidi marks (LRM/RLM/ALM, embeddings, isolates), BOM and soft
   hyphen.
5. ZWNJ U+200C and ZWJ U+200D become a space; every run of whitespace becomes one space;
   the result is stripped.

``compact`` additionally removes all spaces so that "مسگر آباد", "مسگرآباد" and
"مسگر‌آباد" (with ZWNJ) compare equal.
"""

from __future__ import annotations

import functools
import random
import re
import secrets
import unicodedata
from collections.abc import Hashable, Iterable
from typing import TypeVar

__all__ = [
    "LRM",
    "RLM",
    "TRACKING_ALPHABET",
    "best_matches",
    "bidi_text",
    "compact",
    "fuzzy_score",
    "generate_tracking_code",
    "is_valid_tracking_code",
    "ltr",
    "ltr_items",
    "normalize",
    "normalize_tracking_code",
    "rank_places",
    "strip_marks",
    "to_ascii_digits",
    "to_persian_digits",
    "unmarked_items",
]

K = TypeVar("K", bound=Hashable)

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_ASCII_DIGITS = "0123456789"

_TO_ASCII_DIGITS = str.maketrans(_PERSIAN_DIGITS + _ARABIC_DIGITS, _ASCII_DIGITS * 2)
_TO_PERSIAN_DIGITS = str.maketrans(_ASCII_DIGITS + _ARABIC_DIGITS, _PERSIAN_DIGITS * 2)

_LETTER_MAP: dict[str, str] = {
    "\u064a": "\u06cc",  # ي Arabic yeh
    "\u0649": "\u06cc",  # ى alef maksura
    "\u0626": "\u06cc",  # ئ yeh with hamza above
    "\u0643": "\u06a9",  # ك Arabic kaf
    "\u0629": "\u0647",  # ة teh marbuta
    "\u06c0": "\u0647",  # ۀ heh with yeh above
    "\u06d5": "\u0647",  # ە ae
    "\u0623": "\u0627",  # أ
    "\u0625": "\u0627",  # إ
    "\u0622": "\u0627",  # آ
    "\u0671": "\u0627",  # ٱ alef wasla
    "\u0624": "\u0648",  # ؤ
}

_REMOVED_CHARS = (
    [chr(c) for c in range(0x064B, 0x0660)]  # harakat, shadda, sukun, hamza marks...
    + ["\u0670", "\u0640"]  # superscript alef, tatweel
    + ["\u200e", "\u200f", "\u061c"]  # LRM, RLM, ALM
    + [chr(c) for c in range(0x202A, 0x202F)]  # bidi embeddings/overrides
    + [chr(c) for c in range(0x2066, 0x206A)]  # bidi isolates
    + ["\ufeff", "\u00ad", "\u2060"]  # BOM, soft hyphen, word joiner
)

_NORMALIZE_TABLE: dict[int, str | None] = {
    **{ord(k): v for k, v in _LETTER_MAP.items()},
    **{ord(d): a for d, a in zip(_PERSIAN_DIGITS + _ARABIC_DIGITS, _ASCII_DIGITS * 2, strict=True)},
    **{ord(ch): None for ch in _REMOVED_CHARS},
    0x200C: " ",  # ZWNJ
    0x200D: " ",  # ZWJ
}

_WHITESPACE_RE = re.compile(r"\s+")


def _normalize_once(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).casefold()
    s = s.translate(_NORMALIZE_TABLE)
    return _WHITESPACE_RE.sub(" ", s).strip()


def normalize(s: str) -> str:
    """Normalise text for matching and search (see the module docstring for the rules)."""
    out = _normalize_once(s)
    # NFKC/casefold can expose characters another pass would change (e.g. a removed mark
    # between a letter and a combining accent); iterate to a fixed point.
    for _ in range(4):
        again = _normalize_once(out)
        if again == out:
            break
        out = again
    return out


def compact(s: str) -> str:
    """``normalize`` and then drop every space: for space/ZWNJ-insensitive comparison."""
    out = normalize(s).replace(" ", "")
    # Dropping a space can let a combining mark join the previous letter under NFKC.
    for _ in range(4):
        again = normalize(out).replace(" ", "")
        if again == out:
            break
        out = again
    return out


def to_persian_digits(s: str) -> str:
    """Replace ASCII and Arabic-Indic digits with Persian digits (۰-۹)."""
    return s.translate(_TO_PERSIAN_DIGITS)


def to_ascii_digits(s: str) -> str:
    """Replace Persian and Arabic-Indic digits with ASCII digits (0-9)."""
    return s.translate(_TO_ASCII_DIGITS)


# --------------------------------------------------------------------------- fuzzy search

# Score bands (all in [0, 1]):
#   1.0            identical compact forms
#   [0.90, 0.99]   candidate starts with the query
#   [0.85, 0.89]   a word of the candidate starts with the query
#   [0.80, 0.84]   query found elsewhere inside the candidate
#   (0.00, 0.70]   typo match: a few missing/extra/wrong/swapped letters
_FUZZY_MAX = 0.7
DEFAULT_THRESHOLD = 0.45


@functools.lru_cache(maxsize=32768)
def _prepared(s: str) -> tuple[str, frozenset[int]]:
    """Compact form of ``s`` and the positions (in it) where a word starts."""
    words = normalize(s).split(" ")
    joined = compact(s)
    if joined != "".join(words):  # exotic combining marks recomposed; no word starts
        return joined, frozenset({0})
    starts: set[int] = set()
    pos = 0
    for w in words:
        starts.add(pos)
        pos += len(w)
    return joined, frozenset(starts)


def _allowed_edits(qlen: int) -> int:
    if qlen <= 2:
        return 0
    if qlen <= 6:
        return 1
    if qlen <= 10:
        return 2
    return qlen // 4


def _substring_distance(q: str, c: str) -> int:
    """Fewest edits (insert/delete/substitute/adjacent swap) turning ``q`` into some
    substring of ``c``: Sellers' approximate matching with optimal-string-alignment
    transpositions, computed with Hyyrö's bit-parallel version of Myers' algorithm
    (one pass over ``c``, a handful of integer operations per character).
    """
    m = len(q)
    if m == 0:
        return 0
    full = (1 << m) - 1
    last = 1 << (m - 1)
    peq: dict[str, int] = {}
    for i, ch in enumerate(q):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    vp, vn, d0, pm_old = full, 0, 0, 0
    dist = best = m  # matching the empty substring costs m deletions
    for ch in c:
        pm = peq.get(ch, 0)
        tr = (((~d0) & pm) << 1) & pm_old
        d0 = ((((pm & vp) + vp) & full) ^ vp) | pm | vn | tr
        hp = vn | (~(d0 | vp) & full)
        hn = d0 & vp
        if hp & last:
            dist += 1
        elif hn & last:
            dist -= 1
        if dist < best:
            best = dist
        # Row 0 is all zeros (the match may start anywhere), so no carry-in bit.
        hp = (hp << 1) & full
        hn = (hn << 1) & full
        vp = hn | (~(d0 | hp) & full)
        vn = hp & d0
        pm_old = pm
    return best


def _score_prepared(q: str, cand: str, starts: frozenset[int]) -> float:
    if not q or not cand:
        return 0.0
    if q == cand:
        return 1.0
    m, n = len(q), len(cand)
    ratio = m / n if n >= m else 1.0
    idx = cand.find(q)
    if idx == 0:
        return 0.90 + 0.09 * ratio
    if idx > 0:
        # Prefer a hit that starts a word ("قاجار" in "علی آباد قاجار").
        pos = idx
        while pos != -1:
            if pos in starts:
                return 0.85 + 0.04 * ratio
            pos = cand.find(q, pos + 1)
        return 0.80 + 0.04 * ratio
    limit = _allowed_edits(m)
    if limit == 0 or n < m - limit:
        return 0.0
    # Cheap lower bound: each query letter absent from the candidate costs an edit.
    missing = 0
    for ch in set(q):
        if ch not in cand:
            missing += 1
            if missing > limit:
                return 0.0
    dist = _substring_distance(q, cand)
    if dist > limit:
        return 0.0
    # Slightly prefer candidates whose length is close to the query's.
    closeness = min(m, n) / max(m, n)
    return _FUZZY_MAX * (1.0 - dist / (m + 1)) * (0.9 + 0.1 * closeness)


def fuzzy_score(query: str, candidate: str) -> float:
    """How well ``candidate`` matches the user's ``query``, in [0, 1].

    Both sides are compared in their ``compact`` form, so spelling variants (ي/ی, ك/ک),
    digits, diacritics and spaces/ZWNJ do not matter. An exact match scores 1.0, a prefix
    0.90–0.99, a word-start substring 0.85–0.89, any other substring 0.80–0.84, and a
    match within a small number of edits (1 edit for 3–6 letters, 2 for 7–10, a quarter of
    the length beyond) at most 0.7. Queries of one or two letters only match exactly or as
    substrings.
    """
    q, _ = _prepared(query)
    cand, starts = _prepared(candidate)
    return _score_prepared(q, cand, starts)


def best_matches(
    query: str,
    candidates: Iterable[tuple[K, str]],
    limit: int = 8,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[tuple[K, float]]:
    """Best ``(key, score)`` pairs for ``query``, highest score first.

    ``candidates`` are ``(key, text)`` pairs; a key may appear several times (e.g. once
    with the Persian and once with the English name) and keeps its best score. Ties keep
    the input order. Scores below ``threshold`` are dropped. Compact forms of candidate
    texts are cached, so repeated searches over the same list are cheap.
    """
    q, _ = _prepared(query)
    if not q or limit <= 0:
        return []
    best: dict[K, float] = {}
    for key, text in candidates:
        cand, starts = _prepared(text)
        score = _score_prepared(q, cand, starts)
        if score >= threshold and score > best.get(key, -1.0):
            best[key] = score
    ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
    return ranked[:limit]


def _best_of(q: str, names: Iterable[str], seen: dict[str, float]) -> float:
    best = 0.0
    for name in names:
        if not name:
            continue
        score = seen.get(name)
        if score is None:  # a city or province name repeats for each neighbourhood
            cand, starts = _prepared(name)
            score = seen[name] = _score_prepared(q, cand, starts)
        best = max(best, score)
    return best


def rank_places(
    query: str,
    places: Iterable[tuple[K, Iterable[str], Iterable[str], Iterable[str]]],
    limit: int = 8,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[K]:
    """Neighbourhoods for a typed place name, best first.

    ``places`` are ``(key, neighbourhood names, city names, province names)`` (Persian and
    English names), in the order ties should keep. The query is compared (``compact``:
    spaces, ZWNJ, ي/ك and digits do not matter) with all three levels:

    1. a neighbourhood whose own name is exactly the query;
    2. every neighbourhood of a city whose name is the query or starts with it
       («آمل», «اسلامشهر», «اسلام شهر», «اسلام‌شهر»), exact cities before prefixes;
    3. the rest by score: the neighbourhood's own name (prefix, inside, near spellings),
       its city's name inside or misspelled, its province's name (slightly less).
    """
    q, _ = _prepared(query)
    if not q or limit <= 0:
        return []
    ranked: list[tuple[int, float, int, K]] = []
    own_seen: dict[str, float] = {}
    city_seen: dict[str, float] = {}
    province_seen: dict[str, float] = {}
    for order, (key, own, city_names, province_names) in enumerate(places):
        own_score = _best_of(q, own, own_seen)
        city_score = _best_of(q, city_names, city_seen)
        province_score = _best_of(q, province_names, province_seen)
        if own_score >= 1.0:
            ranked.append((0, own_score, order, key))
        elif city_score >= 0.9:
            ranked.append((1, city_score, order, key))
        else:
            score = max(own_score, 0.95 * city_score, 0.9 * province_score)
            if score >= threshold:
                ranked.append((2, score, order, key))
    ranked.sort(key=lambda item: (item[0], -item[1], item[2]))
    return [key for *_, key in ranked[:limit]]


# --------------------------------------------------------------------------- tracking codes

# Upper-case letters and digits minus every character that is easily confused with
# another when read on a small screen or spelled out over the phone:
# 0/O/Q/D-ish, 1/I/L, 2/Z, 5/S, 8/B, 6/G are dropped (we keep 6 and drop G).
# 23 symbols ** 6 = ~148 million codes.
TRACKING_ALPHABET = "ACDEFHJKMNPRTUVWXY34679"

_TRACKING_STRIP_RE = re.compile(r"[\s\u200c\u200d\-_\u2010-\u2015\u2212.]+")


def generate_tracking_code(rng: random.Random | None = None, length: int = 6) -> str:
    """A random tracking code of ``length`` symbols from ``TRACKING_ALPHABET``.

    Without ``rng`` the OS CSPRNG is used, so codes are not guessable; pass a seeded
    ``random.Random`` for reproducible tests.
    """
    if length <= 0:
        raise ValueError("length must be positive")
    source: random.Random = rng if rng is not None else secrets.SystemRandom()
    return "".join(source.choice(TRACKING_ALPHABET) for _ in range(length))


def normalize_tracking_code(s: str) -> str:
    """Canonical form of a code typed by a user: Persian/Arabic digits → ASCII, spaces,
    ZWNJ, dashes and bidi marks (copied with the code from a message) removed, upper-cased
    ("  acd-3 ۴۷" → "ACD347", "\u200eACD347\u200f" → "ACD347")."""
    s = to_ascii_digits(unicodedata.normalize("NFKC", strip_marks(s)))
    return _TRACKING_STRIP_RE.sub("", s).upper()


def is_valid_tracking_code(s: str, length: int = 6) -> bool:
    """True if ``s`` (already normalised) is a well-formed tracking code."""
    return len(s) == length and all(ch in TRACKING_ALPHABET for ch in s)


# --------------------------------------------------------------------------- mixed direction
#
# A Persian message is laid out right to left; a Latin tracking code, a /command, a phone
# number or a Latin name inside it is an "LTR item". Without help the Unicode bidi algorithm
# attaches the neutral characters around an item to the wrong side: «یا /status EMMMA6»
# shows as "status EMMMA6/", «+98 912 …» loses its plus sign to the far end, a phone number
# written in groups has its groups reversed, and «EMMMA6: ۱ پیوست» glues the Persian digit
# to the code. Telegram Desktop does not honour the isolates (FSI/LRI…PDI), so each item is
# wrapped in the plain marks every client follows: LRM before it (its leading "/" or "+"
# belongs to it) and, in a right-to-left text, RLM after it (what follows belongs to the
# Persian sentence again). An item that is a line of its own needs nothing and is left bare,
# so it is copied clean; a right-to-left line that *starts* with an item gets an RLM first,
# so clients that take a paragraph's direction from its first strong letter still lay it
# out right to left. `bidi_text` is applied to every text the bot sends (see
# `bot/ui/bidi.py`); parsers strip the marks again (`strip_marks`, `normalize`,
# `normalize_tracking_code`).

LRM = "\u200e"
RLM = "\u200f"
_MARKS = "\u200e\u200f\u061c"
_STRIP_MARKS = {ord(ch): None for ch in _MARKS}
_STRIP_MARKS.update({c: None for c in range(0x202A, 0x202F)})
_STRIP_MARKS.update({c: None for c in range(0x2066, 0x206A)})

_DIGIT = "0-9\u06f0-\u06f9\u0660-\u0669"
_LATIN_WORD = r"[A-Za-z0-9\u00c0-\u024f]+(?:[_.\-:/@+#?=&%~']+[A-Za-z0-9\u00c0-\u024f]+)*"
_LATIN_TOKEN = rf"(?:[/@#]?{_LATIN_WORD}/?)"
# A phone number: 7 or more digits, optionally with a leading + and single spaces or
# dashes between groups (ASCII, Persian or Arabic-Indic digits).
_PHONE = rf"\+?[{_DIGIT}](?:[ \-]?[{_DIGIT}]){{6,}}"
_ITEM_RE = re.compile(
    rf"[{_MARKS}]*"
    rf"(?P<item>{_PHONE}(?![{_DIGIT}])|{_LATIN_TOKEN}(?:[ ]{_LATIN_TOKEN})*)"
    rf"[{_MARKS}]*"
)
# In a left-to-right (English) text only technical tokens need marks: the words are already
# in the paragraph's direction.
_TOKEN_RE = re.compile(
    rf"[{_MARKS}]*(?P<item>{_PHONE}(?![{_DIGIT}])|{_LATIN_TOKEN})[{_MARKS}]*")
_TECHNICAL_RE = re.compile(rf"^[/@#+]|[{_DIGIT}]|://")
_HAS_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")
_RTL_LETTER_RE = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_LATIN_PROSE_RE = re.compile(r"[A-Za-z][a-z]+(?:'[a-z]+)?")
_PUNCT = ".,;:!?()[]«»\"'…—–-•·"


def strip_marks(s: str) -> str:
    """Remove bidi marks (LRM, RLM, ALM, embeddings and isolates), nothing else."""
    return s.translate(_STRIP_MARKS)


def ltr_items(text: str, rtl: bool | None = None) -> list[str]:
    """The left-to-right items of ``text`` as `bidi_text` sees them: in a right-to-left
    text codes, commands, phone numbers, Latin words and runs of them; in a left-to-right
    one codes, commands, phone numbers and links."""
    direction = is_rtl(text) if rtl is None else rtl
    return [m.group("item") for line in text.split("\n") for m in _line_items(line, direction)]


def _is_item(item: str) -> bool:
    if _HAS_LATIN_RE.search(item):
        return True
    return len(re.sub(rf"[^{_DIGIT}]", "", item)) >= 7  # a phone number


def _line_items(line: str, rtl: bool) -> list[re.Match[str]]:
    if rtl:
        return [m for m in _ITEM_RE.finditer(line) if _is_item(m.group("item"))]
    return [m for m in _TOKEN_RE.finditer(line)
            if _is_item(m.group("item")) and _TECHNICAL_RE.search(m.group("item"))]


def is_rtl(text: str) -> bool:
    """True when ``text`` reads right to left: more Persian/Arabic words than English
    ones (codes, commands and numbers do not count), ties decided by the first letter."""
    rtl_words = sum(1 for w in text.split() if _RTL_LETTER_RE.search(w))
    ltr_words = sum(1 for w in strip_marks(text).split()
                    if _LATIN_PROSE_RE.fullmatch(w.strip(_PUNCT)))
    if rtl_words != ltr_words:
        return rtl_words > ltr_words
    for ch in text:
        if _RTL_LETTER_RE.match(ch):
            return True
        if _HAS_LATIN_RE.match(ch):
            return False
    return False


def ltr(item: str, rtl: bool = True) -> str:
    """One left-to-right item marked for a sentence of the given direction."""
    return LRM + item + (RLM if rtl else LRM)


def bidi_text(text: str, rtl: bool | None = None) -> str:
    """``text`` with every left-to-right item kept in order (see the notes above).

    ``rtl`` is the direction of the whole message; ``None`` guesses it (`is_rtl`).
    Idempotent: marks already around an item are replaced by the same marks.
    """
    if not text:
        return text
    direction = is_rtl(text) if rtl is None else rtl
    out_lines = []
    for line in text.split("\n"):
        out_lines.append(_bidi_line(line, direction))
    return "\n".join(out_lines)


def _bidi_line(line: str, rtl: bool) -> str:
    bare = strip_marks(line).strip()
    matches = _line_items(line, rtl)
    if not matches:
        return line
    if len(matches) == 1 and matches[0].group("item") == bare:
        return line.replace(line.strip(), bare) if line.strip() != bare else line
    parts: list[str] = []
    pos = 0
    for m in matches:
        parts.append(line[pos:m.start()])
        parts.append(ltr(m.group("item"), rtl))
        pos = m.end()
    parts.append(line[pos:])
    out = "".join(parts)
    if rtl:
        body = out.lstrip(RLM)
        first = _first_strong(body)
        if first == "L":
            indent = len(body) - len(body.lstrip())
            out = body[:indent] + RLM + body[indent:]
    return out


def _first_strong(s: str) -> str:
    for ch in s:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return "L"
        if kind in ("R", "AL"):
            return "R"
    return ""


def unmarked_items(text: str) -> list[str]:
    """Left-to-right items of ``text`` that are neither wrapped in marks (LRM before, LRM or
    RLM after) nor a line of their own: what `bidi_text` would have fixed."""
    problems = []
    rtl = is_rtl(text)
    for line in text.split("\n"):
        bare = strip_marks(line).strip()
        for m in _line_items(line, rtl):
            item = m.group("item")
            if item == bare:
                continue
            start, end = m.start("item"), m.end("item")
            if not (line[start - 1:start] == LRM and line[end:end + 1] in (LRM, RLM)):
                problems.append(item)
    return problems
