"""The sandbox page in a real headless Chromium (Debian's package, driven by Selenium).

The server (emulator + real bot + page) runs in a background thread with its own event loop;
the test clicks and types like a visitor. `SandboxPage` holds the reusable steps (switch
person, send text, use the command menu, press an inline or keyboard button, wait for a bot
message) so longer scenarios read as a story.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from bot.app import deps_of
from bot.config import Settings
from bot.i18n import translator
from bot.sandbox.run import Sandbox
from bot.sandbox.web import start_web

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--lang=fa")
WAIT = 15.0
# A real 2x2 PNG, so the browser can decode and show it.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a"
    "730000001049444154789c63f8cfc000440c100a001fee03fd8b5f14d4000000"
    "0049454e44ae426082")
T = TypeVar("T")


class ServerThread:
    """The sandbox and its page on 127.0.0.1:<free port>, in a thread with its own loop."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self.sandbox = Sandbox(settings, poll_timeout=1)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""
        self._runner: Any = None

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self.thread.start()

        async def boot() -> None:
            await self.sandbox.start()
            self._runner, self.url = await start_web(self.sandbox, "127.0.0.1", 0)

        self.call(boot())

    def stop(self) -> None:
        async def shutdown() -> None:
            await self.sandbox.stop()
            await self._runner.cleanup()

        try:
            self.call(shutdown())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()


def server_tmp(server: ServerThread) -> Path:
    return server.sandbox.db_path.parent


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    settings = Settings(_env_file=None, bot_token=None,  # type: ignore[call-arg]
                        sandbox_database_path=tmp_path / "sandbox.sqlite3", sandbox_port=0,
                        quiet_hours="off")   # real time of day: no waiting for the morning
    running = ServerThread(settings)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[WebDriver]:
    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), (
        "Chromium is missing: run `bash scripts/browser-deps.sh` (as root) first")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.add_argument("--window-size=1280,860")
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


@dataclass
class SandboxPage:
    """What a visitor does on the page. Reusable steps for longer scenarios."""

    driver: WebDriver
    url: str

    # -- waiting -------------------------------------------------------------------------

    def wait(self, condition: Callable[[WebDriver], T], message: str,
             timeout: float = WAIT) -> T:
        return WebDriverWait(self.driver, timeout, ignored_exceptions=(
            StaleElementReferenceException,)).until(condition, message)

    def open(self) -> None:
        self.driver.get(self.url)
        self.wait(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
                  == "1", "page did not load its state")
        self.wait(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-live")
                  == "1", "live event stream did not connect")

    # -- people --------------------------------------------------------------------------

    def person_button(self, key: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, f'.person[data-person="{key}"]')

    def person_shown(self, key: str) -> bool:
        """Whether the person's button is on screen, read in one script call: the list
        re-renders when an unread badge changes, so a held element can go stale."""
        return bool(self.driver.execute_script(
            "const b = document.querySelector(`.person[data-person=\"${arguments[0]}\"]`);"
            "return !!b && b.getClientRects().length > 0"
            " && getComputedStyle(b).visibility !== 'hidden';", key))

    def switch_to(self, key: str) -> None:
        """Select a person in the side list (on a phone, from the list view). The list
        re-renders when unread badges change, so the click is retried on a stale element."""
        layout = self.driver.find_element(By.ID, "layout")
        for attempt in range(5):
            try:
                if not self.person_button(key).is_displayed():
                    self.driver.find_element(By.ID, "back").click()
                self.person_button(key).click()
                break
            except StaleElementReferenceException:
                if attempt == 4:
                    raise
        self.wait(lambda d: "active" in (self.person_button(key).get_attribute("class") or "")
                  and layout.get_attribute("data-view") == "chat", f"could not switch to {key}")
        self.wait(lambda d: d.find_element(By.ID, "chat-name").text == self.person_button(
            key).find_element(By.CSS_SELECTOR, ".who div").get_attribute("textContent"),
            f"chat of {key} did not open")

    def add_resident(self) -> str:
        """"+ add a resident": a new resident is created and selected; returns their key."""
        keys = {b.get_attribute("data-person") for b in self.driver.find_elements(
            By.CSS_SELECTOR, '.person[data-kind="resident"]')}
        button = self.driver.find_element(By.ID, "add-resident")
        if not button.is_displayed():
            self.driver.find_element(By.ID, "back").click()
        button.click()

        def new_key(d: WebDriver) -> str | bool:
            for b in d.find_elements(By.CSS_SELECTOR, '.person[data-kind="resident"].active'):
                key = b.get_attribute("data-person") or ""
                if key not in keys:
                    return key
            return False

        key = str(self.wait(new_key, "no new resident"))
        self.wait(lambda d: d.find_element(By.ID, "layout").get_attribute("data-view") == "chat",
                  "new resident's chat did not open")
        return key

    def unread(self, key: str) -> str:
        badges = self.person_button(key).find_elements(By.CLASS_NAME, "badge")
        return badges[0].text if badges else ""

    # -- messages ------------------------------------------------------------------------

    def bubbles(self, side: str = "bot") -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, f'#messages .msg[data-from="{side}"]')

    def texts(self, side: str = "bot") -> list[str]:
        """Texts on screen; retried while the page re-renders (elements go stale)."""
        for _ in range(5):
            try:
                return [b.find_element(By.CSS_SELECTOR, ".bubble").text
                        for b in self.bubbles(side)]
            except StaleElementReferenceException:
                continue
        return []

    def last_id(self) -> int:
        ids = [int(m.get_attribute("data-id") or 0)
               for m in self.driver.find_elements(By.CSS_SELECTOR, "#messages .msg")]
        return max(ids, default=0)

    def wait_for_bot(self, contains: str, after: int = 0, timeout: float = WAIT) -> WebElement:
        """The first bot message newer than `after` whose text contains `contains`."""
        def found(d: WebDriver) -> WebElement | bool:
            for message in self.bubbles("bot"):
                if int(message.get_attribute("data-id") or 0) > after and contains in (
                        message.find_element(By.CSS_SELECTOR, ".bubble").text):
                    return message
            return False

        try:
            return self.wait(found, f"no bot message containing {contains!r}", timeout)
        except Exception:
            print("bot messages on screen:", self.texts())
            raise

    def message(self, message_id: str) -> WebElement:
        """The current element of a message (edits re-render it)."""
        return self.driver.find_element(By.CSS_SELECTOR, f'.msg[data-id="{message_id}"]')

    def wait_for_edit(self, message_id: str, contains: str) -> WebElement:
        def edited(d: WebDriver) -> WebElement | bool:
            element = self.message(message_id)
            return element if contains in element.text else False

        return self.wait(edited, f"message {message_id} never showed {contains!r}")

    def send_text(self, text: str, reply_to: WebElement | None = None) -> int:
        """Type and send; returns the id of the last message before sending."""
        before = self.last_id()
        if reply_to is not None:
            reply_to.find_element(By.CLASS_NAME, "reply-btn").click()
            self.wait(lambda d: d.find_element(By.ID, "replying").is_displayed(),
                      "reply bar did not appear")
        box = self.driver.find_element(By.ID, "text")
        box.clear()
        box.send_keys(text)
        self.driver.find_element(By.ID, "send").click()
        self.wait(lambda d: text in self.texts("user")[-1:][0] if self.texts("user") else False,
                  f"sent text {text!r} did not appear")
        assert not self.driver.find_element(By.ID, "replying").is_displayed()
        return before

    def command(self, name: str) -> int:
        """Pick a command from the bot's command menu (the "/" button)."""
        before = self.last_id()
        self.driver.find_element(By.ID, "cmd-btn").click()
        item = self.wait(lambda d: d.find_element(By.CSS_SELECTOR,
                                                  f'.cmd-item[data-command="{name}"]'),
                         f"/{name} is not in the command menu")
        item.click()
        return before

    def press(self, label: str, message: WebElement | None = None) -> int:
        """Press the inline button whose label contains `label` (on `message`, else the last
        bot message that has one)."""
        before = self.last_id()
        scopes = [message] if message is not None else list(reversed(self.bubbles("bot")))
        for scope in scopes:
            for button in scope.find_elements(By.CLASS_NAME, "inline-btn"):
                if label in button.text:
                    button.click()
                    return before
        raise AssertionError(f"no inline button {label!r}")

    def keyboard(self) -> list[str]:
        return [b.text for b in self.driver.find_elements(By.CSS_SELECTOR, "#keyboard .kb-btn")]

    def press_key(self, label: str) -> int:
        """Press a reply-keyboard button (text, or share contact/location)."""
        before = self.last_id()
        for button in self.driver.find_elements(By.CSS_SELECTOR, "#keyboard .kb-btn"):
            if label in button.text:
                button.click()
                return before
        raise AssertionError(f"no keyboard button {label!r} in {self.keyboard()}")

    def share_location(self) -> int:
        before = self.last_id()
        self.driver.find_element(By.ID, "attach-btn").click()
        self.driver.find_element(By.ID, "attach-location").click()
        self.wait(lambda d: self.last_id() > before, "location was not sent")
        return before

    def attach_photo(self, path: Path) -> int:
        """The 📎 → photo path, with the file chooser answered by Selenium."""
        before = self.last_id()
        chooser = self.driver.find_element(By.ID, "photo-input")
        self.driver.execute_script("arguments[0].hidden = false", chooser)
        chooser.send_keys(str(path))
        self.driver.execute_script("arguments[0].hidden = true", chooser)
        self.wait(lambda d: d.find_elements(
            By.CSS_SELECTOR, f'.msg[data-from="user"][data-id="{before + 1}"] img.photo'),
            "photo did not appear")
        self.wait(lambda d: d.execute_script(
            "const i = document.querySelector('.msg[data-from=user] img.photo:last-of-type');"
            "return i && i.complete && i.naturalWidth > 0"), "photo did not load")
        return before

    # -- clock and artifacts -------------------------------------------------------------

    def advance_clock(self, hours: int) -> str:
        old = self.driver.find_element(By.ID, "clock-now").text
        self.driver.find_element(By.CSS_SELECTOR, f'#clock-buttons [data-hours="{hours}"]').click()
        self.wait(lambda d: d.find_element(By.ID, "clock-now").text != old,
                  "clock did not move")
        return str(self.driver.find_element(By.ID, "clock-now").text)

    def screenshot(self, name: str, width: int, height: int) -> Path:
        self.driver.set_window_size(width, height)
        self.driver.execute_script("document.getElementById('messages').scrollTop = 1e9")
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        assert self.driver.save_screenshot(str(path))
        return path


def test_resident_and_staff_in_a_real_browser(server: ServerThread, driver: WebDriver) -> None:
    page = SandboxPage(driver, server.url)
    page.open()
    html = driver.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("dir") == "rtl" and html.get_attribute("lang") == "fa"
    people = driver.find_elements(By.CSS_SELECTOR, ".person")
    assert [p.get_attribute("data-kind") for p in people] == [
        "resident", "mayor", "staff", "staff", "staff", "staff", "supervisor", "admin", "group"]

    # The resident starts the bot from the command menu and gets the Persian welcome.
    page.switch_to("resident-7001")
    after = page.command("start")
    welcome = page.wait_for_bot("۷۲ ساعت", after)
    assert "زهرا" in welcome.text
    page.wait(lambda d: "📝 درخواست جدید" in page.keyboard(), "main menu keyboard missing")

    # Markup typed by a resident is shown as text and never runs.
    typed = '<img src=x onerror="document.body.dataset.pwned=1"><b>سلام</b>'
    after = page.send_text(typed)
    assert page.texts("user")[-1].startswith(typed)
    assert not driver.find_elements(By.CSS_SELECTOR, "#messages .msg[data-from=user] .text img")
    assert driver.find_element(By.TAG_NAME, "body").get_attribute("data-pwned") is None
    page.wait_for_bot("درخواست جدید", after)          # the bot's "I did not understand" help

    # /language -> English: the same message is edited in place, then a new menu arrives.
    after = page.command("language")
    menu = page.wait_for_bot("زبان", after)
    menu_id = menu.get_attribute("data-id")
    page.press("English", menu)
    page.wait(lambda d: d.find_element(By.CSS_SELECTOR, f'.msg[data-id="{menu_id}"] .bubble')
              .text.startswith("Language set to English."), "language message was not edited")
    assert "ویرایش‌شده" in driver.find_element(By.CSS_SELECTOR, f'.msg[data-id="{menu_id}"]').text
    page.wait_for_bot("Main menu:", after)
    page.wait(lambda d: "📝 New request" in page.keyboard(), "English keyboard missing")

    # Reply to a message.
    after = page.send_text("thanks", reply_to=welcome)
    assert driver.find_elements(By.CSS_SELECTOR, "#messages .msg[data-from=user] .quote")
    page.wait_for_bot("New request", after)

    # Share a (sample) location and attach a photo from the 📎 menu.
    after = page.share_location()
    assert "📍" in page.texts("user")[-1]
    page.wait_for_bot("", after)
    png = server_tmp(server) / "hole.png"
    png.write_bytes(PNG)
    after = page.attach_photo(png)
    page.wait_for_bot("", after)

    # A staff member of the Welfare house sees the staff help; then back to the resident,
    # whose conversation is still there.
    page.switch_to("staff-welfare")
    assert page.texts("bot") == []
    after = page.send_text("/help")
    page.wait_for_bot("/queue", after)
    staff_screen = page.texts("bot")

    # A second resident files a request from a poster's deep link, in Persian, by taps.
    assert page.add_resident() == "resident-7002"
    after = page.send_text("/start n_ISL01")
    consent = page.wait_for_bot("موافق", after)
    after = page.press("موافقم", consent)
    form = str(page.wait_for_bot("قائمیه", after).get_attribute("data-id"))
    page.press("نیاز", page.message(form))
    page.press("مسکن", page.wait_for_edit(form, "مسکن"))
    page.wait_for_edit(form, "بهزیستی")            # which house will handle it
    after = page.send_text("سقف خانه از دیشب چکه می‌کند و آب به اتاق آمده است")
    page.press("تمام", page.wait_for_bot("", after))
    page.wait(lambda d: "➡️ ادامه" in page.keyboard(), "optional phone/location step missing")
    after = page.press_key("➡️ ادامه")
    summary = page.wait_for_bot("", after)
    after = page.press("فرستادن", summary)
    receipt = page.wait_for_bot("کد پیگیری", after)
    code = next(word for word in receipt.text.replace("«", " ").replace("»", " ").split()
                if len(word) == 6 and word.isascii() and word.isalnum() and word.isupper())

    # The Welfare staff member is told (unread badge), and the clock panel runs the real SLA
    # sweep: 48 hours later the 24-hours-left reminder arrives.
    page.wait(lambda d: page.unread("staff-welfare") != "", "staff were not told")
    before_clock = driver.find_element(By.ID, "clock-now").text
    assert any("۰" <= c <= "۹" for c in before_clock)   # Persian digits, Jalali date
    page.advance_clock(24)
    assert "۲۴" in driver.find_element(By.ID, "clock-offset").text
    page.advance_clock(24)
    page.switch_to("staff-welfare")
    page.wait_for_bot(code)                              # the new-request card
    try:
        page.wait_for_bot("⏰")                          # the reminder, with the code
    except Exception:
        emu = server.sandbox.emu
        print("staff chat in the emulator:", emu and [m.get("text") for m in emu.chat(7201)])
        print("clock:", server.sandbox.clock.now())
        raise
    assert staff_screen[0] in page.texts("bot")[0]

    # Staff answers with one command; the resident sees the answer arrive live.
    after = page.send_text(f"/reply {code} فردا ساعت ۱۰ همکار ما برای بازدید می‌آید")
    page.wait_for_bot(code, after)
    page.wait(lambda d: page.unread("resident-7002") != "", "the resident got no message")
    page.switch_to("resident-7002")
    page.wait_for_bot("فردا ساعت ۱۰ همکار ما برای بازدید می‌آید")
    page.screenshot("sandbox-answer.png", 1280, 860)
    page.switch_to("resident-7001")
    deps = deps_of(server.sandbox.app) if server.sandbox.app else None
    assert deps is not None

    # And while looking at the resident's chat, a new message appears without a reload.
    shown = len(page.bubbles("bot"))
    server.call(_notify_later(deps, "browser-live"))
    page.wait(lambda d: len(page.bubbles("bot")) == shown + 1, "live message did not appear")

    desktop = page.screenshot("sandbox.png", 1280, 860)
    phone = page.screenshot("sandbox-360.png", 360, 740)
    assert desktop.stat().st_size > 10_000 and phone.stat().st_size > 10_000
    # On a 360 px phone: one pane at a time, nothing wider than the screen.
    no_sideways_scroll = "return document.documentElement.scrollWidth <= window.innerWidth + 1"
    assert driver.execute_script(no_sideways_scroll)
    assert not page.person_shown("mayor")
    driver.find_element(By.ID, "back").click()
    page.wait(lambda d: page.person_shown("mayor"), "people list not shown")
    page.screenshot("sandbox-360-people.png", 360, 740)
    assert driver.execute_script(no_sideways_scroll)
    page.switch_to("mayor")
    assert driver.find_element(By.ID, "chat-role").text.startswith("شهردار محله")
    assert page.add_resident() == "resident-7003"
    after = page.command("start")
    assert "مریم" in page.wait_for_bot("۷۲ ساعت", after).text


def test_field_visit_and_claim_in_a_real_browser(server: ServerThread,
                                                driver: WebDriver) -> None:
    """The mayor runs a field visit and files for two people (receipts as pictures, all of
    them as a PDF); a resident added with + claims one by its code."""
    page = SandboxPage(driver, server.url)
    page.open()
    page.switch_to("mayor")
    after = page.command("visit")                    # in the mayor's command menu
    page.wait_for_bot("عنوان کوتاهی", after)
    after = page.send_text("نشست صمیمی مسجد جامع")
    page.press("همین حالا", page.wait_for_bot("همین حالا", after))
    page.wait_for_bot("برای هر نفر", after)
    codes = []
    for name, phone, category in (("علی رضایی", "۰۹۱۲۳۴۵۶۷۸۹", "مسکن"),
                                  ("مریم احمدی", None, "وام")):
        after = page.press("درخواست برای یک نفر")
        page.wait_for_bot("نام", after)
        after = page.send_text(name)
        ask = page.wait_for_bot("شمارهٔ همراه", after)
        after = page.send_text(phone) if phone else page.press("بدون تلفن", ask)
        after = page.press("نیاز", page.wait_for_bot("چه نوع", after))
        after = page.press(category, page.wait_for_bot("دربارهٔ چیست", after))
        page.wait_for_bot("شرح دهید", after)
        after = page.send_text("سقف خانه چکه می‌کند و کمک می‌خواهد")
        after = page.press("ثبت درخواست", page.wait_for_bot("افزوده شد", after))
        filed = page.wait_for_bot("کد پیگیری", after)
        codes.append(filed.text.split("کد پیگیری:")[1].split()[0])
        page.wait(lambda d: d.execute_script(
            "const i = [...document.querySelectorAll('.msg[data-from=bot] img.photo')].pop();"
            "return !!i && i.complete && i.naturalWidth === 720"), "receipt not shown")
    page.screenshot("sandbox-visit-receipt.png", 1280, 860)
    after = page.send_text("/visit end")
    page.wait_for_bot("۲ درخواست ثبت شد", after)
    page.wait(lambda d: any(".pdf" in a.text for a in d.find_elements(
        By.CSS_SELECTOR, ".msg[data-from=bot] a.file")), "the receipts PDF is missing")

    # A new resident claims the first request with its code and the phone's last digits.
    page.add_resident()
    after = page.send_text(f"/claim {codes[0]}")
    page.wait_for_bot("چهار رقم آخر", after)
    after = page.send_text("6789")
    page.wait_for_bot("به نام شماست", after)


async def _notify_later(deps: Any, key: str) -> None:
    async with deps.db.tx() as conn:
        await deps.outbox.enqueue(conn, chat_id=7001, key=key, kind="test",
                                  text=translator("fa")._("Main menu:"))


async def _file_for(deps: Any, resident: int, text: str) -> str:
    from bot.domain.tickets import Kind
    from bot.services.tickets import Draft, file_ticket
    from storage import places

    async with deps.db.read() as conn:
        n = await places.neighbourhood_by_code(conn, "ISL01")
        c = await places.category_by_code(conn, "housing")
    assert n and c
    ticket, _ = await file_ticket(deps, Draft(resident_id=resident, neighbourhood_id=n.id,
                                              kind=Kind.NEED, category_id=c.id, text=text),
                                  idem_key="browser-route")
    return ticket.code


def test_mayor_routes_by_typing_and_staff_photo_reaches_resident(
        server: ServerThread, driver: WebDriver) -> None:
    """Issue 11: the mayor's reason is a plain typed message (no Telegram reply), and a staff
    member's photo answer reaches the resident as a photo with the answer as its caption."""
    page = SandboxPage(driver, server.url)
    page.open()
    deps = deps_of(server.sandbox.app) if server.sandbox.app else None
    assert deps is not None
    code = server.call(_file_for(deps, 7001, "برای هزینهٔ درمان مادرم به وام نیاز دارم"))

    # The mayor: /inbox, the request, «re-route», the Relief house, then the reason typed.
    page.switch_to("mayor")
    after = page.command("inbox")
    inbox = page.wait_for_bot(code, after)
    after = page.press(code, inbox)
    card = page.wait_for_bot(code, after)
    after = page.press("تغییر خانه", card)
    houses = page.wait_for_bot(code, after)
    after = page.press("امداد", houses)
    page.wait_for_bot("پیام بعدی", after)
    after = page.send_text("وام درمان با کمیته امداد است")
    told = page.wait_for_bot("امداد", after)
    assert code in told.text and "متوجه نشدم" not in " ".join(page.texts("bot"))

    # The Relief house's staff member opens the card (with the mayor's reason) and answers
    # with a photo and a caption in the reply prompt.
    page.switch_to("staff-relief")
    announcement = page.wait_for_bot(code)
    after = page.press("نمایش", announcement)
    card = page.wait_for_bot("وام درمان با کمیته امداد است", after)
    after = page.press("پاسخ", card)
    page.wait_for_bot("پیام بعدی", after)
    png = server_tmp(server) / "form.png"
    png.write_bytes(PNG)
    driver.find_element(By.ID, "text").send_keys("این فرم را پر کنید و فردا بیاورید")
    after = page.attach_photo(png)
    page.wait_for_bot(code, after)

    # The resident sees the photo with the answer, live, and no trace of who sent it.
    page.wait(lambda d: page.unread("resident-7001") != "", "the resident got no message")
    page.switch_to("resident-7001")
    answer = page.wait_for_bot("این فرم را پر کنید و فردا بیاورید")
    assert code in answer.text and "مهدی" not in answer.text
    assert answer.find_elements(By.CSS_SELECTOR, "img.photo")
    page.wait(lambda d: d.execute_script(
        "const i = [...document.querySelectorAll('.msg[data-from=bot] img.photo')].pop();"
        "return i && i.complete && i.naturalWidth > 0"), "the photo did not load")
    page.screenshot("sandbox-photo-answer.png", 1280, 860)
