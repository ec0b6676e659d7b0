"""Tests for bot.domain.text and the data/*.csv reference files."""

from __future__ import annotations

import csv
import random
import re
import string
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.text import (
    TRACKING_ALPHABET,
    _substring_distance,
    best_matches,
    compact,
    fuzzy_score,
    generate_tracking_code,
    is_valid_tracking_code,
    normalize,
    normalize_tracking_code,
    rank_places,
    to_ascii_digits,
    to_persian_digits,
)

DATA = Path(__file__).resolve().parent.parent / "data"
ZWNJ = "\u200c"
ESPIARI = "اسپیاری"

# ----------------------------------------------------------------------------- normalize


def test_arabic_letters_become_persian() -> None:
    assert normalize("علي") == "علی"
    assert normalize("كرج") == "کرج"
    assert normalize("مصطفى") == "مصطفی"
    assert normalize("مدرسة") == "مدرسه"
    assert normalize("أحمد إسلام آباد") == "احمد اسلام اباد"
    assert normalize("مؤسسه") == "موسسه"
    assert "ي" not in normalize("يكي") and "ك" not in normalize("يكي")


def test_digits_diacritics_tatweel_case() -> None:
    assert normalize("کوی ۱۲ و ٣٤") == "کوی 12 و 34"
    assert normalize("مُحَمَّد") == "محمد"
    assert normalize("تهـــران") == "تهران"
    assert normalize("  Islamshahr\tWEST \n") == "islamshahr west"
    assert normalize("ﻻله") == "لاله"  # Arabic presentation form from PDFs


def test_zwnj_and_spaces() -> None:
    forms = ["مسگر آباد", "مسگرآباد", f"مسگر{ZWNJ}آباد", "  مسگر \u200d  آباد ", "مسگر\u00a0آباد"]
    assert normalize(f"مسگر{ZWNJ}آباد") == "مسگر اباد"
    assert {compact(f) for f in forms} == {"مسگراباد"}
    assert normalize("\u200fتهران\u200e") == "تهران"


@given(st.text())
def test_normalize_idempotent(s: str) -> None:
    once = normalize(s)
    assert normalize(once) == once
    assert compact(compact(s)) == compact(s)
    assert once == once.strip() and "  " not in once


@given(st.text(alphabet="يىئكةأإآؤ" + string.ascii_letters + "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩ \u200c"))
def test_normalize_removes_variant_letters(s: str) -> None:
    out = normalize(s)
    assert not set(out) & set("يىئكةأإآؤ\u200c۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩")


# ----------------------------------------------------------------------------- digits


def test_digit_conversion_examples() -> None:
    assert to_persian_digits("Room 1405-09-05 ٣") == "Room ۱۴۰۵-۰۹-۰۵ ۳"
    assert to_ascii_digits("۱۴۰۵/۰۹/۰۵ ٣") == "1405/09/05 3"


@given(st.text())
def test_digits_roundtrip(s: str) -> None:
    ascii_only = to_ascii_digits(s)
    assert to_ascii_digits(to_persian_digits(ascii_only)) == ascii_only
    assert not set(to_persian_digits(s)) & set("0123456789٠١٢٣٤٥٦٧٨٩")


@given(st.integers(min_value=0))
def test_digits_roundtrip_numbers(n: int) -> None:
    fa = to_persian_digits(str(n))
    assert set(fa) <= set("۰۱۲۳۴۵۶۷۸۹")
    assert int(to_ascii_digits(fa)) == n


# ----------------------------------------------------------------------------- fuzzy

PLACES = [
    (1, ESPIARI),
    (2, f"اسپه{ZWNJ}کلا"),
    (3, "چاکسر"),
    (4, f"علی{ZWNJ}آباد قاجار"),
    (5, "مسگرآباد"),
    (6, "خاک سفید"),
    (7, "قائمیه"),
    (8, "واوان"),
]


@pytest.mark.parametrize(
    "query",
    ["اسپیار", "اسپاری", "اسپياري", "اسپیاری", "اسپایری", "اسپیاریی", " اسپیـاری ", "سپیاری"],
)
def test_fuzzy_finds_espiari(query: str) -> None:
    res = best_matches(query, PLACES)
    assert res, query
    assert res[0][0] == 1


def test_fuzzy_ranking_bands() -> None:
    assert fuzzy_score("اسپياري", ESPIARI) == 1.0
    exact = fuzzy_score(ESPIARI, ESPIARI)
    prefix = fuzzy_score("اسپیار", ESPIARI)
    word = fuzzy_score("قاجار", f"علی{ZWNJ}آباد قاجار")
    inner = fuzzy_score("پیار", ESPIARI)
    typo = fuzzy_score("اسپاری", ESPIARI)
    assert exact > prefix > word > inner > typo > 0
    assert fuzzy_score("مسگر آباد", "مسگرآباد") == 1.0
    assert fuzzy_score(f"مسگر{ZWNJ}آباد", "مسگر آباد") == 1.0


def test_fuzzy_rejects_unrelated_and_short_typos() -> None:
    assert fuzzy_score("تبریز", ESPIARI) == 0.0
    assert fuzzy_score("", ESPIARI) == 0.0
    assert fuzzy_score("ضظ", ESPIARI) == 0.0  # 1–2 letters: no typo tolerance
    assert best_matches("زنجان", PLACES) == []
    assert best_matches("", PLACES) == []


def test_best_matches_limit_dedup_order() -> None:
    cands = [("a", "Vavan"), ("a", "واوان"), ("b", "واوان شمالی"), ("c", "وا")]
    res = best_matches("واوان", cands)
    assert [k for k, _ in res] == ["a", "b"]
    assert res[0][1] == 1.0
    assert len(best_matches("ا", [(i, f"ا{i}") for i in range(50)], limit=5)) == 5
    assert best_matches("vavan", cands)[0] == ("a", 1.0)


@given(st.text(max_size=12), st.text(max_size=20))
def test_fuzzy_score_in_unit_interval(q: str, c: str) -> None:
    assert 0.0 <= fuzzy_score(q, c) <= 1.0


def _reference_distance(q: str, c: str) -> int:
    m, n = len(q), len(c)
    d = [[0] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        d[i][0] = i
        for j in range(1, n + 1):
            v = min(d[i - 1][j - 1] + (q[i - 1] != c[j - 1]), d[i - 1][j] + 1, d[i][j - 1] + 1)
            if i > 1 and j > 1 and q[i - 1] == c[j - 2] and q[i - 2] == c[j - 1]:
                v = min(v, d[i - 2][j - 2] + 1)
            d[i][j] = v
    return min(d[m])


@settings(max_examples=300)
@given(st.text(alphabet="abcd", max_size=8), st.text(alphabet="abcd", max_size=12))
def test_bit_parallel_distance_matches_dp(q: str, c: str) -> None:
    assert _substring_distance(q, c) == _reference_distance(q, c)


def test_fuzzy_speed_5000_candidates(capsys: pytest.CaptureFixture[str]) -> None:
    """Benchmark-ish: prints the time, asserts only correctness."""
    rng = random.Random(7)
    parts = ["شهرک", "کوی", "محله", "آباد", "اسلام", "علی", "قلعه", "نو", "باغ", "سر", "چشمه"]
    cands = [(i, " ".join(rng.sample(parts, rng.randint(1, 3)))) for i in range(5000)]
    cands.append((-1, ESPIARI))
    t0 = time.perf_counter()
    res = best_matches("اسپاری", cands)
    elapsed = (time.perf_counter() - t0) * 1000
    with capsys.disabled():
        print(f"\nbest_matches over {len(cands)} candidates: {elapsed:.1f} ms")
    assert res[0][0] == -1


# ----------------------------------------------------------------------------- tracking codes


def test_tracking_alphabet_has_no_ambiguous_characters() -> None:
    assert not set(TRACKING_ALPHABET) & set("0O1IL5S2Z8BGQ")
    assert len(set(TRACKING_ALPHABET)) == len(TRACKING_ALPHABET)
    assert TRACKING_ALPHABET == TRACKING_ALPHABET.upper()


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=16))
def test_generate_tracking_code(seed: int, length: int) -> None:
    code = generate_tracking_code(random.Random(seed), length)
    assert len(code) == length
    assert set(code) <= set(TRACKING_ALPHABET)
    assert code == generate_tracking_code(random.Random(seed), length)
    assert normalize_tracking_code(code) == code
    assert is_valid_tracking_code(code, length)


def test_generate_tracking_code_default_rng_and_spread() -> None:
    codes = {generate_tracking_code() for _ in range(200)}
    assert len(codes) > 190
    assert all(is_valid_tracking_code(c) for c in codes)
    with pytest.raises(ValueError):
        generate_tracking_code(length=0)


def test_normalize_tracking_code() -> None:
    assert normalize_tracking_code("  acd-3 ۴۷") == "ACD347"
    assert normalize_tracking_code("ac\u200cd–٣٤٧") == "ACD347"
    assert normalize_tracking_code("ＡＣＤ３４７") == "ACD347"
    assert is_valid_tracking_code(normalize_tracking_code("hj k-۹۶۴"))
    assert not is_valid_tracking_code("ACD34O")
    assert not is_valid_tracking_code("ACD34")


# ----------------------------------------------------------------------------- data files


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _header(name: str) -> list[str]:
    with (DATA / name).open(encoding="utf-8", newline="") as f:
        return next(csv.reader(f))


def test_csv_headers() -> None:
    assert _header("provinces.csv") == ["code", "name_fa", "name_en"]
    assert _header("places.csv") == [
        "province_code", "city_code", "city_fa", "city_en", "neighbourhood_code",
        "neighbourhood_fa", "neighbourhood_en", "lat", "lon", "sample",
    ]
    assert _header("houses.csv") == [
        "code", "name_fa", "name_en", "description_fa", "description_en",
    ]
    assert _header("categories.csv") == ["code", "name_fa", "name_en", "default_house", "sort",
                                       "window_hours", "window_clock"]
    assert _header("routing_overrides.csv") == ["neighbourhood_code", "category_code", "house_code"]


def test_provinces() -> None:
    rows = _rows("provinces.csv")
    codes = [r["code"] for r in rows]
    assert len(rows) == 31 and len(set(codes)) == 31
    assert all(re.fullmatch(r"[a-z_]+", c) for c in codes)
    names = {r["code"]: r["name_fa"] for r in rows}
    assert names["tehran"] == "تهران" and names["razavi_khorasan"] == "خراسان رضوی"
    assert len({r["name_fa"] for r in rows}) == 31


def test_places_cover_every_province_and_codes_are_valid() -> None:
    provinces = {r["code"] for r in _rows("provinces.csv")}
    places = _rows("places.csv")
    assert {p["province_code"] for p in places} == provinces
    codes = [p["neighbourhood_code"] for p in places]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z0-9]{1,12}", c) for c in codes)
    assert all(p["sample"] == "1" for p in places)
    assert sum(p["province_code"] == "tehran" for p in places) >= 25
    city_province: dict[str, str] = {}
    for p in places:
        assert city_province.setdefault(p["city_code"], p["province_code"]) == p["province_code"]
        assert p["neighbourhood_fa"] and p["neighbourhood_en"] and p["city_fa"] and p["city_en"]
        if p["lat"] or p["lon"]:
            assert 25.0 <= float(p["lat"]) <= 40.0 and 44.0 <= float(p["lon"]) <= 63.5
    amol = [p for p in places if p["city_en"] == "Amol"]
    assert ESPIARI in {p["neighbourhood_fa"] for p in amol}
    assert {"Semnan", "Shahrud", "Damghan", "Garmsar", "Mahdishahr"} <= {
        p["city_en"] for p in places if p["province_code"] == "semnan"
    }
    assert sum(p["city_en"] == "Islamshahr" for p in places) >= 5
    names = [(p["neighbourhood_code"], p["neighbourhood_fa"]) for p in places]
    assert best_matches("اسپیار", names)[0][0] == "AML01"


def test_categories_houses_overrides_consistent() -> None:
    houses = {r["code"] for r in _rows("houses.csv")}
    assert houses == {"welfare", "relief", "ehsan", "redcrescent"}
    cats = _rows("categories.csv")
    cat_codes = [c["code"] for c in cats]
    assert len(cat_codes) == len(set(cat_codes)) == 15
    assert all(c["default_house"] in houses for c in cats)
    assert [int(c["sort"]) for c in cats] == sorted(int(c["sort"]) for c in cats)
    nbhd = {p["neighbourhood_code"] for p in _rows("places.csv")}
    overrides = _rows("routing_overrides.csv")
    assert overrides
    for o in overrides:
        assert o["neighbourhood_code"] in nbhd
        assert o["category_code"] in cat_codes
        assert o["house_code"] in houses


@pytest.mark.parametrize(
    "name", ["provinces.csv", "places.csv", "houses.csv", "categories.csv", "routing_overrides.csv"]
)
def test_persian_text_uses_persian_letters(name: str) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    assert not set(text) & set("يكىة"), "Arabic yeh/kaf found; use Persian ی/ک"
    assert "\u200c\u200c" not in text and " \u200c" not in text and "\u200c " not in text
    assert not text.startswith("\ufeff")


# --------------------------------------------------------------------------- place search

def _places() -> list[tuple[str, tuple[str, str], tuple[str, str], tuple[str, str]]]:
    with (DATA / "provinces.csv").open(encoding="utf-8") as handle:
        provinces = {r["code"]: (r["name_fa"], r["name_en"]) for r in csv.DictReader(handle)}
    with (DATA / "places.csv").open(encoding="utf-8") as handle:
        return [(r["neighbourhood_code"], (r["neighbourhood_fa"], r["neighbourhood_en"]),
                 (r["city_fa"], r["city_en"]), provinces[r["province_code"]])
                for r in csv.DictReader(handle)]


@pytest.mark.parametrize("query", ["اسلامشهر", "اسلام‌شهر", "اسلام شهر", "اسلامشهر ",
                                   "Islamshahr", "اسلامشر"])
def test_rank_places_finds_a_city_in_every_spelling(query: str) -> None:
    found = rank_places(query, _places())
    assert found[:8] == ["ISL01", "ISL02", "ISL03", "ISL04", "ISL05", "ISL06", "ISL07",
                         "ISL08"][:len(found[:8])]


def test_rank_places_city_first_then_neighbourhood_names() -> None:
    places = _places()
    assert rank_places("آمل", places)[:3] == ["AML01", "AML02", "AML03"]
    assert rank_places("Amol", places)[:3] == ["AML01", "AML02", "AML03"]
    # «ری» is a city and part of «افسریه» / «اسپیاری»: the city's neighbourhoods first.
    rey = rank_places("ری", places)
    assert [code[:3] for code in rey[:2]] == ["REY", "REY"]
    # An exact neighbourhood name beats a city prefix; Arabic letters do not matter.
    assert rank_places("اسپه كلا", places)[0] == "AML02"
    assert rank_places("ززززززز", places) == []


def test_rank_places_province_names() -> None:
    assert rank_places("مازندران", _places())[0] == "AML01"
