"""A fifth service house is a data row: routing, the staff queue, /stats and every text
that lists houses follow the houses table without any code change.

The fixture copies `data/` to a temporary folder, appends one house to houses.csv and one
category routed to it to categories.csv, and points the loader at the copy: the bot then
starts exactly as in production (bot.services.reference.load_reference at post_init).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bot.reference
from bot import DATA_DIR
from bot.cli import _house_codes
from bot.services.admin import new_invite
from storage import places
from tests.harness import Harness, start_harness, stop_harness
from tests.resident_steps import file_via_bot, onboard, ticket
from tests.staff_helpers import MAYOR, STAFF, add_role, texts

HOUSE = "cooperative"
HOUSE_FA = "خانه تعاون"
CATEGORY_FA = "اشتغال تعاونی"
ADMIN = 8100
COOP_STAFF = 8101
RESIDENT = 8102


@pytest.fixture
async def h5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             database_url: str) -> AsyncIterator[Harness]:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    with (data / "houses.csv").open("a", encoding="utf-8") as out:
        out.write(f"{HOUSE},{HOUSE_FA},Cooperative House,اداره تعاون: تعاونی‌ها و اشتغال "
                  "جمعی,Cooperatives office: cooperatives and group employment\n")
    with (data / "categories.csv").open("a", encoding="utf-8") as out:
        out.write(f"cooperative_jobs,{CATEGORY_FA},Cooperative jobs,{HOUSE},160\n")
    monkeypatch.setattr(bot.reference, "DATA_DIR", data)
    harness = await start_harness(tmp_path, admin_ids=[ADMIN], database_url=database_url)
    try:
        harness.user(ADMIN, "مدیر")
        yield harness
    finally:
        await stop_harness(harness)


async def test_fifth_house_from_data_routes_queues_and_counts(h5: Harness) -> None:
    h = h5
    async with h.deps.db.read() as conn:
        coop = await places.house_by_code(conn, HOUSE)
        assert coop is not None and len(await places.houses(conn)) == 5

    # Texts that list houses read the table (or data/houses.csv, for the command line's
    # help): the admin's invite help and refusals.
    assert HOUSE in _house_codes()
    usage = texts(await h.send(ADMIN, "/invite"))
    assert f"{HOUSE} ({HOUSE_FA})" in usage and "welfare (خانه بهزیستی)" in usage
    refused = texts(await h.send(ADMIN, "/invite staff nowhere ISL01"))
    assert "nowhere" in refused and HOUSE in refused

    # A staff member of the new house, invited through the service.
    invite = await new_invite(h.deps, "staff", HOUSE, "ISL01", created_by=ADMIN)
    h.user(COOP_STAFF, "کاوه")
    welcome = texts(await h.send(COOP_STAFF, f"/start inv_{invite.code}"))
    assert HOUSE_FA in welcome

    # A resident files in the category routed to the new house.
    await onboard(h, RESIDENT)
    await h.send(RESIDENT, "/cancel")
    code = await file_via_bot(h, RESIDENT, category=CATEGORY_FA)
    filed = await ticket(h, code)
    assert filed.house_id == coop.id
    await h.settle()
    assert code in h.last(COOP_STAFF)["text"]                 # the house is told
    assert code in texts(await h.send(COOP_STAFF, "/queue"))

    # Another house's staff and the mayor see the new house in their usage texts and can
    # pass requests to it.
    await add_role(h, STAFF, "staff", "welfare", "neighbourhood", "ISL01", "علی")
    await add_role(h, MAYOR, "mayor", None, "neighbourhood", "ISL01", "مریم")
    assert f"{HOUSE} ({HOUSE_FA})" in texts(await h.send(STAFF, "/transfer"))
    assert f"{HOUSE} ({HOUSE_FA})" in texts(await h.send(MAYOR, "/route"))
    other = await file_via_bot(h, RESIDENT, text="کمک برای تعمیر سقف خانه لازم داریم",
                               category="مسکن")
    unknown = texts(await h.send(STAFF, f"/transfer {other} nowhere دلیل"))
    assert "nowhere" in unknown and HOUSE in unknown
    await h.send(STAFF, f"/transfer {other} {HOUSE} کار گروهی است")
    assert (await ticket(h, other)).house_id == coop.id

    # The new house works its queue and shows in /stats.
    await h.send(COOP_STAFF, f"/reply {code} با تعاونی محله هماهنگ شد")
    stats = texts(await h.send(COOP_STAFF, "/stats"))
    assert f"{HOUSE_FA} · قائمیه" in stats
    assert "باز ۲" in stats
