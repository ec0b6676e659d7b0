"""Choosing the neighbourhood: browse with pages and back, fuzzy search, location, deep link."""

from __future__ import annotations

from storage import people, places
from tests.harness import Harness, buttons
from tests.resident_steps import current

R = 6101


async def _saved(h: Harness) -> str | None:
    async with h.deps.db.read() as conn:
        person = await people.get(conn, R)
        if person is None or person.neighbourhood_id is None:
            return None
        n = await places.neighbourhood(conn, person.neighbourhood_id)
    return n.code if n else None


async def test_browse_province_city_neighbourhood_with_pages_and_back(h: Harness) -> None:
    h.user(R)
    replies = await h.send(R, "📍 محله من")
    assert "📍 فرستادن موقعیتم" in h.keyboard(R)
    menu = replies[-1]
    assert "استان خود" in menu["text"]
    await h.press(R, menu, "تهران")
    menu = current(h, R, menu)
    assert "شهر خود" in menu["text"]
    await h.press(R, menu, "تهران", exact=True)
    menu = current(h, R, menu)
    labels = [t for t, _ in buttons(menu)]
    assert "اتابک" in labels and "یافت‌آباد" not in labels and "بعدی ◀️" in labels
    await h.press(R, menu, "بعدی")
    menu = current(h, R, menu)
    labels = [t for t, _ in buttons(menu)]
    assert "یافت‌آباد" in labels and "▶️ قبلی" in labels
    await h.press(R, menu, "برگشت به شهرها")
    menu = current(h, R, menu)
    assert "شهر خود" in menu["text"]
    await h.press(R, menu, "برگشت به استان‌ها")
    menu = current(h, R, menu)
    await h.press(R, menu, "تهران")
    await h.press(R, current(h, R, menu), "اسلام‌شهر")
    replies = await h.press(R, current(h, R, menu), "واوان")
    assert "ذخیره شد" in replies[-1]["text"]
    assert await _saved(h) == "ISL02"
    assert "📝 درخواست جدید" in h.keyboard(R)


async def test_search_with_arabic_letters_and_without_zwnj(h: Harness) -> None:
    h.user(R)
    await h.send(R, "/neighbourhood")
    replies = await h.send(R, "شهرك وليعصر")          # Arabic ك and ي
    assert "شهرک ولیعصر، تهران" in [t for t, _ in buttons(replies[-1])]
    replies = await h.send(R, "اسپه كلا")              # Arabic ك, no ZWNJ
    assert next(t for t, _ in buttons(replies[-1])) == "اسپه‌کلا، آمل"
    replies = await h.send(R, "دولتخواه")             # missing ZWNJ
    labels = [t for t, _ in buttons(replies[-1])]
    assert labels[0] == "دولت‌خواه، تهران"
    replies = await h.send(R, "مسگراباد")             # a missing letter (آ → ا)
    replies = await h.press(R, replies[-1], "مسگرآباد")
    assert await _saved(h) == "THR01"
    replies = await h.send(R, "/neighbourhood")
    replies = await h.send(R, "ززززززز")
    assert "پیدا نشد" in replies[-1]["text"]
    replies = await h.send(R, "✖️ لغو")
    assert "متوقف شد" in replies[-1]["text"]
    assert await _saved(h) == "THR01"


async def test_location_offers_the_nearest_neighbourhoods(h: Harness) -> None:
    h.user(R)
    await h.send(R, "/neighbourhood")
    replies = await h.do(R, "send_location", 35.5643, 51.2251)
    labels = [t for t, _ in buttons(replies[-1])]
    assert labels[0] == "قائمیه، اسلام‌شهر"
    await h.press(R, replies[-1], "قائمیه")
    assert await _saved(h) == "ISL01"


async def test_deep_link_preselects_and_a_bad_link_asks(h: Harness) -> None:
    h.user(R)
    replies = await h.send(R, "/start n_AML01")
    assert "اسپیاری" in replies[-1]["text"] and "موافق" in replies[-1]["text"]
    assert await _saved(h) == "AML01"
    replies = await h.send(R, "/start n_NOPE9")
    assert "معتبر نیست" in replies[-2]["text"]
    assert "استان خود" in replies[-1]["text"]
    assert await _saved(h) == "AML01"


async def test_search_by_city_and_province_names(h: Harness) -> None:
    """Issue 11, item 2: a city's name in any spelling finds its neighbourhoods first."""
    h.user(R)
    await h.send(R, "/neighbourhood")
    for query in ("اسلامشهر", "اسلام‌شهر", "اسلام شهر", "اسلامشهر".replace("ی", "ي")):
        labels = [t for t, _ in buttons((await h.send(R, query))[-1])]
        assert labels[0] == "قائمیه، اسلام‌شهر", query
        assert all(label.endswith("اسلام‌شهر") for label in labels[:5]), (query, labels)
    labels = [t for t, _ in buttons((await h.send(R, "آمل"))[-1])]
    assert labels[:3] == ["اسپیاری، آمل", "اسپه‌کلا، آمل", "چاکسر، آمل"]
    labels = [t for t, _ in buttons((await h.send(R, "مازندران"))[-1])]   # the province
    assert labels[0] == "اسپیاری، آمل"
    await h.press(R, (await h.send(R, "امل"))[-1], "اسپیاری")
    assert await _saved(h) == "AML01"


async def test_a_city_whose_name_is_inside_neighbourhood_names(h: Harness) -> None:
    """«ری» is a city and also part of «افسریه» and «اسپیاری»: the city comes first."""
    h.user(R)
    await h.send(R, "/neighbourhood")
    labels = [t for t, _ in buttons((await h.send(R, "ری"))[-1])]
    assert labels[:2] == ["دولت‌آباد، ری", "قلعه‌نو، ری"]
    assert "افسریه، تهران" in labels[2:]
