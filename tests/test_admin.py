"""Onboarding by invite (fresh, used, expired, unknown), /roles, /revoke, the CLI."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.harness import Harness, start_harness, stop_harness
from tests.staff_helpers import file, texts

ADMIN = 9001
NEWBIE = 9002
LATE = 9003


@pytest.fixture
async def ha(tmp_path: Path, database_url: str) -> AsyncIterator[Harness]:
    harness = await start_harness(tmp_path, admin_ids=[ADMIN], database_url=database_url)
    try:
        harness.user(ADMIN, "مدیر")
        harness.user(NEWBIE, "امیر")
        harness.user(LATE, "لیلا")
        yield harness
    finally:
        await stop_harness(harness)


def _code(text: str) -> str:
    match = re.search(r"start=inv_([A-Za-z0-9_-]+)", text)
    assert match, text
    return match.group(1)


async def test_invite_onboards_staff_once(ha: Harness) -> None:
    h = ha
    bad = await h.send(ADMIN, "/invite staff nowhere ISL01")
    assert "nowhere" in texts(bad)
    reply = await h.send(ADMIN, "/invite staff welfare ISL01,ISL02")
    code = _code(texts(reply))
    welcome = await h.send(NEWBIE, f"/start inv_{code}")
    assert "خوش آمدید" in texts(welcome) and "قائمیه" in texts(welcome)
    ticket = await file(h, neighbourhood="ISL02")
    assert ticket.code in h.last(NEWBIE)["text"]            # now receives announcements
    assert ticket.code in texts(await h.send(NEWBIE, "/queue"))
    used = await h.send(LATE, f"/start inv_{code}")
    assert "قبلاً استفاده" in texts(used)
    assert "کارکنان" in texts(await h.send(LATE, "/queue"))
    unknown = await h.send(LATE, "/start inv_nonsense")
    assert "معتبر نیست" in texts(unknown)


async def test_expired_invite_and_mayor_invite(ha: Harness) -> None:
    h = ha
    code = _code(texts(await h.send(ADMIN, "/invite mayor ISL03")))
    h.clock.advance(timedelta(days=8))
    expired = await h.send(NEWBIE, f"/start inv_{code}")
    assert "منقضی" in texts(expired)
    assert "شهرداران" in texts(await h.send(NEWBIE, "/inbox"))
    code = _code(texts(await h.send(ADMIN, "/invite mayor ISL03")))
    await h.send(NEWBIE, f"/start inv_{code}")
    assert "خالی" in texts(await h.send(NEWBIE, "/inbox"))
    supervisor = _code(texts(await h.send(ADMIN, "/invite supervisor ehsan province:tehran")))
    await h.send(LATE, f"/start inv_{supervisor}")
    wrong = await h.send(ADMIN, "/invite supervisor ehsan ISL01")
    assert "city:" in texts(wrong)


async def test_roles_and_revoke(ha: Harness) -> None:
    h = ha
    assert "مدیران" in texts(await h.send(NEWBIE, "/roles"))
    assert "مدیران" in texts(await h.send(NEWBIE, "/invite mayor ISL01"))
    code = _code(texts(await h.send(ADMIN, "/invite staff relief city:islamshahr")))
    await h.send(NEWBIE, f"/start inv_{code}")
    listing = texts(await h.send(ADMIN, "/roles"))
    assert "امیر" in listing and "اسلام‌شهر" in listing and "خانه امداد" in listing
    number = re.search(r"#(\S+) امیر", listing)
    assert number
    assert "شماره" in texts(await h.send(ADMIN, "/revoke 999"))
    done = await h.send(ADMIN, f"/revoke {number.group(1)}")
    assert "گرفته شد" in texts(done)
    assert "کارکنان" in texts(await h.send(NEWBIE, "/queue"))
    assert "هنوز کسی" in texts(await h.send(ADMIN, "/roles"))


async def test_cli_invite_prints_a_working_link(ha: Harness, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str],
                                                database_url: str) -> None:
    from bot.__main__ import main

    monkeypatch.setenv("DATABASE_PATH", str(ha.db_path))
    if not database_url.startswith("sqlite:"):
        monkeypatch.setenv("DATABASE_URL", database_url)
    import asyncio

    loop = asyncio.get_running_loop()
    code = await loop.run_in_executor(None, main, [
        "invite", "--role", "staff", "--house", "welfare", "--neighbourhoods", "ISL01,ISL04",
        "--bot-username", "mahalleyar_bot"])
    assert code == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://t.me/mahalleyar_bot?start=inv_")
    welcome = await ha.send(NEWBIE, "/start " + link.split("start=")[1])
    assert "شاطره" in texts(welcome)
    bad = await loop.run_in_executor(None, main, [
        "invite", "--role", "staff", "--house", "nowhere", "--neighbourhoods", "ISL01",
        "--bot-username", "x"])
    assert bad == 1


async def test_role_gets_its_own_command_menu_until_revoked(ha: Harness) -> None:
    h = ha
    scope = f"chat:{NEWBIE}"
    assert h.emu.commands(scope=scope) == []
    code = _code(texts(await h.send(ADMIN, "/invite staff welfare ISL01")))
    await h.send(NEWBIE, f"/start inv_{code}")
    menu = {c["command"]: c["description"] for c in h.emu.commands(scope=scope)}
    assert {"start", "new", "my", "queue", "show", "take", "reply", "files", "close",
            "export"} <= set(menu)
    assert "invite" not in menu and "inbox" not in menu
    assert menu["queue"] == "درخواست‌های باز خانهٔ من" and menu["new"] == "فرستادن درخواست جدید"
    # a mayor gets the mayor commands, not the staff ones
    mayor = _code(texts(await h.send(ADMIN, "/invite mayor ISL01")))
    await h.send(LATE, f"/start inv_{mayor}")
    mayor_menu = [c["command"] for c in h.emu.commands(scope=f"chat:{LATE}")]
    assert {"inbox", "route", "duplicate", "note", "files"} <= set(mayor_menu)
    assert "queue" not in mayor_menu
    # the menu follows the person's language
    await h.press(NEWBIE, (await h.send(NEWBIE, "/language"))[-1], "English")
    assert {c["command"]: c["description"] for c in h.emu.commands(scope=scope)}["queue"] \
        == "Open requests of my house"
    listing = texts(await h.send(ADMIN, "/roles"))
    number = re.search(r"#(\S+) امیر", listing)
    assert number
    await h.send(ADMIN, f"/revoke {number.group(1)}")
    assert h.emu.commands(scope=scope) == []
    assert h.emu.commands(scope=f"chat:{LATE}") != []


async def test_admin_menu_set_at_startup(ha: Harness) -> None:
    menu = [c["command"] for c in ha.emu.commands(scope=f"chat:{ADMIN}")]
    assert {"invite", "roles", "revoke", "start"} <= set(menu)
