"""Mixed-direction text as a browser lays it out: Chromium (the sandbox's browser) renders
sent texts with and without `bidi_text`, and the measured left-to-right positions of the
Latin characters show the order a reader sees. Also saves `artifacts/bidi.png` to look at.

The page uses `unicode-bidi: plaintext` (each line takes its direction from its first
strong letter), like the sandbox chat and Telegram's apps.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from bot.domain.text import bidi_text

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# (Persian text as a template renders it, Latin/digit characters in the visual order a
# reader must see from left to right)
CASES = [
    ("برای دیدن وضعیت بفرستید: یا /status EMMMA6", "/statusEMMMA6:"),
    ("(برای لغو /cancel)", ")/cancel("),
    ("📎 درخواست EMMMA6: ۱ پیوست", "۱:EMMMA6"),
    ("📞 تلفن: +98 912 123 4567", "+989121234567:"),
    ("با /reply EMMMA6 #1 پاسخ دهید.", "/replyEMMMA6#1"),
    ("سلام Reza Ahmadi! به محله‌یار خوش آمدید.", "RezaAhmadi"),
]

MEASURE = """
const out = [];
for (const div of document.querySelectorAll('.t')) {
  const node = div.firstChild, s = node.textContent, xs = [];
  for (let i = 0; i < s.length; i++) {
    const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
    xs.push([r.getBoundingClientRect().left, s.charCodeAt(i)]);
  }
  out.push([xs]);
}
return out;
"""


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[WebDriver]:
    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), (
        "Chromium is missing: run `bash scripts/browser-deps.sh` (as root) first")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                 "--window-size=1000,460"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield browser
    finally:
        browser.quit()


def _page(tmp_path: Path, texts: list[str]) -> Path:
    rows = "".join(
        f"<tr><td><div class=t>{html.escape(t)}</div></td>"
        f"<td><div class=t>{html.escape(bidi_text(t))}</div></td></tr>" for t in texts)
    page = tmp_path / "bidi.html"
    page.write_text(
        "<html lang=fa dir=rtl><meta charset=utf-8><style>body{font-family:'DejaVu Sans';"
        "font-size:20px} td{border:1px solid #999;padding:6px 10px;width:440px}"
        ".t{white-space:pre-wrap;unicode-bidi:plaintext}</style><table>"
        "<tr><th>بدون نشانه (پیش از این)</th><th>با bidi_text (اکنون)</th></tr>"
        f"{rows}</table></html>", encoding="utf-8")
    return page


def _visual(xs: list[list[float]]) -> str:
    ordered = sorted(xs, key=lambda pair: pair[0])
    return "".join(chr(int(c)) for _, c in ordered
                   if re.match(r"[A-Za-z0-9/+():#۰-۹]", chr(int(c))))


def test_latin_items_keep_their_order_in_chromium(driver: WebDriver, tmp_path: Path) -> None:
    texts = [text for text, _ in CASES] + ["EMMMA6 · 🆕 دریافت شد · قائمیه"]
    driver.get(_page(tmp_path, texts).as_uri())
    (ROOT / "artifacts").mkdir(exist_ok=True)
    driver.save_screenshot(str(ROOT / "artifacts" / "bidi.png"))
    cells = driver.execute_script(MEASURE)
    plain, marked = cells[0::2], cells[1::2]
    for (text, expected), after in zip(CASES, marked, strict=False):
        assert _visual(after[0]) == expected, (text, _visual(after[0]))
    # Without the marks the first four are scrambled, as people saw them.
    assert [_visual(c[0]) for c in plain[:4]] != [e for _, e in CASES[:4]]
    assert _visual(plain[0][0]) == "statusEMMMA6/:"
    # A line that starts with a code still reads right to left: the code is its rightmost
    # word, where a right-to-left reader starts.
    line = marked[-1]
    first_latin = next(x for x, c in line[0] if chr(int(c)) == "E")
    assert first_latin > max(x for x, c in line[0] if "\u0600" <= chr(int(c)) <= "\u06ff")
