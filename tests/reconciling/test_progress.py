"""A run's progress as the status, the page and `syncd sync` show it (`RunProgress`)."""

from __future__ import annotations

import asyncio

import pytest

from syncd.clock import LoopClock
from syncd.emulator import Emulator, EmulatorConfig, FaultRule
from syncd.reconciling import RunProgress
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.world import World, emails, people

UPSERT = "PUT /v3/marketing/contacts"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return strict_emulator_config(wall_clock=LoopClock().now)


@pytest.mark.looptime(idle_step=0.01)
async def test_a_wait_for_sendgrids_rate_limit_is_shown_while_it_lasts(
    sync_world: World, emulator: Emulator
) -> None:
    # A 429 storm held the run for a minute while its progress said only "sending 0 of 5".
    w = sync_world
    w.follow_the_loop()
    w.destination({"vip": w.csv("vip", people(0, 5))})
    emulator.faults.add(FaultRule(kind="rate_limit_storm", template=UPSERT, times=1, seconds=60))
    live = RunProgress(w.clock)
    run = asyncio.create_task(w.sync(live=live))
    seen: list[tuple[str, str | None]] = []
    while not run.done():
        shape = live.shape()
        seen.append((shape.phase, shape.rate_limited_until))
        await asyncio.sleep(5)
    report = run.result()

    assert report.outcome == "success", report.error
    assert w.members() == emails(people(0, 5))
    held = [until for phase, until in seen if until is not None]
    assert len(held) >= 10, seen  # about a minute, looked at every 5 s
    assert {phase for phase, until in seen if until is not None} == {"sending"}
    assert live.shape().rate_limited_until is None
