"""Destinations sharing an API key share its request budget (fake loop time)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import aiohttp
import pytest

from syncd.clock import LoopClock
from syncd.emulator import Emulator, EmulatorConfig, ListSeed
from syncd.ledger import open_ledger
from syncd.loading import load_directory
from syncd.metrics import Metrics
from syncd.reconciling import Reconciler
from syncd.settings import Settings
from tests.fixtures_emulator import TEST_API_KEY, strict_emulator_config
from tests.reconciling.world import World, people

pytestmark = pytest.mark.looptime
SECOND_LIST = "44444444-4444-4444-8444-444444444444"


@pytest.fixture
def clock() -> LoopClock:
    return LoopClock()


@pytest.fixture
def emulator_config(clock: LoopClock) -> EmulatorConfig:
    base = strict_emulator_config(wall_clock=clock.now)
    return base.model_copy(update={"lists": [*base.lists, ListSeed(id=SECOND_LIST, name="two")]})


async def test_two_destinations_on_one_key_never_exceed_its_budget_together(
    tmp_path: Path, emulator: Emulator, clock: LoopClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", TEST_API_KEY)
    w = World(tmp_path, emulator)
    w.ledger.close()
    w.destination({"a": w.csv("a", people(0, 10))}, name="one")
    w.destination(
        {"b": w.csv("b", people(50, 10))},
        name="two",
        sendgrid={"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": SECOND_LIST},
    )
    settings = Settings(
        destinations=w.destinations,
        state=str(tmp_path / "budget.db"),
        sendgrid_base_url=emulator.url,
        requests_per_second=2,
        job_poll_max_interval=1,
    )
    catalog = load_directory(w.destinations, settings.allowlists())
    ledger = open_ledger(settings.state, clock=clock)
    try:
        async with aiohttp.ClientSession() as http:
            reconciler = Reconciler(ledger, http, settings, Metrics(), clock=clock)
            reports = await asyncio.gather(
                reconciler.run(catalog.destinations["one"]),
                reconciler.run(catalog.destinations["two"]),
            )
    finally:
        ledger.close()
    assert [r.outcome for r in reports] == ["success", "success"]
    times = sorted(record.loop_time for record in emulator.requests)
    assert len(times) >= 8  # both destinations' lists, upserts and polls
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.5 - 1e-6, gaps  # 2 requests a second, across both destinations
