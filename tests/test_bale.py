"""Bale (بله) tolerance: the resident and staff journeys against the emulator's `bale` profile,
a Bot-API-compatible server without command menus and descriptions that refuses newer
parameters. An unsupported optional call is switched off with one log line; a message with an
unsupported parameter is sent again without it; nothing crashes, nothing is lost."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import BotCommand
from telegram.error import BadRequest

from tests.harness import Harness, start_harness, stop_harness
from tests.resident_steps import file_via_bot, onboard, ticket
from tests.staff_helpers import RESIDENT, STAFF, team, texts


@pytest.fixture
async def bale(tmp_path: Path, caplog: pytest.LogCaptureFixture,
               database_url: str) -> AsyncIterator[Harness]:
    caplog.set_level(logging.INFO)
    harness = await start_harness(tmp_path, emulator_profile="bale", database_url=database_url)
    try:
        yield harness
    finally:
        await stop_harness(harness)


async def test_resident_and_staff_journey_on_bale(bale: Harness,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    h = bale
    await team(h)
    await onboard(h, RESIDENT)
    code = await file_via_bot(h, RESIDENT)
    await h.settle()
    assert code in h.last(STAFF)["text"]                          # announced to staff
    assert code in texts(await h.send(STAFF, f"/take {code}"))
    await h.send(STAFF, f"/reply {code} فردا می‌آییم")
    await h.settle()
    assert "فردا می‌آییم" in h.last(RESIDENT)["text"]
    await h.send(STAFF, f"/close {code} resolved تعمیر انجام شد")
    await h.settle()
    assert (await ticket(h, code)).status.value == "closed"
    records = caplog.get_records("setup") + caplog.records       # start-up, then the journey
    switched = [r for r in records if "switched off" in r.getMessage()]
    assert len(switched) == 1 and "setMyCommands" in switched[0].getMessage()
    assert not [r for r in records if r.levelno >= logging.ERROR]


async def test_unsupported_parameter_is_dropped_and_remembered(bale: Harness,
                                                               caplog: pytest.LogCaptureFixture
                                                               ) -> None:
    h = bale
    h.user(RESIDENT, "زهرا")
    for n in range(3):
        sent = await h.app.bot.send_message(RESIDENT, f"آرام {n}", disable_notification=True)
        assert sent.text == f"آرام {n}"
    sends = [p for m, p in h.emu.requests if m == "sendMessage"]
    assert sum("disable_notification" in p for p in sends) == 1       # learnt once
    assert sum("does not accept" in r.getMessage() for r in caplog.records) == 1
    assert await h.app.bot.set_my_commands([BotCommand("start", "x")])   # switched off


async def test_webhook_secret_is_refused_not_dropped(bale: Harness) -> None:
    """A webhook secret is a security setting: never silently dropped (with Bale, run
    without WEBHOOK_SECRET or use polling)."""
    with pytest.raises(BadRequest):
        await bale.app.bot.set_webhook("https://example.org/hook", secret_token="s3cret")
