"""A run's progress as the status, the page and `syncd sync` show it (`RunProgress`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

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


@dataclass
class ManualClock:
    now_value: float

    def now(self) -> float:
        return self.now_value


@dataclass
class Confirmed:
    removed: int = 0


def test_contacts_refused_at_sending_count_as_done_not_as_still_to_send() -> None:
    # 2 new contacts and 1 refused: the bar stopped at 67 % though everything that could
    # be sent was.
    live = RunProgress(ManualClock(100.0))
    live.planned(to_send=3, to_remove=2, confirmed=Confirmed())
    live.enter("sending")
    live.batch_submitted(2, upsert=True)
    live.gave_up(1)
    assert live.ratio == 0.6  # 3 of 5: the leavers are still to go
    live.gave_up(2, leavers=True)
    assert live.ratio == 1.0


def test_work_finished_for_an_earlier_run_is_not_counted_in_this_plans_bar() -> None:
    # A resumed batch of 10 sent before the plan made the bar read 100 % before removals
    # began; a contact refused in a job, counted as sent already, was counted twice.
    confirmed = Confirmed(removed=4)  # removals an earlier run's batches confirmed
    live = RunProgress(ManualClock(100.0))
    live.batch_submitted(10, upsert=True)  # the earlier run's batch, resumed
    live.planned(to_send=10, to_remove=10, confirmed=confirmed)
    live.enter("sending")
    live.batch_submitted(10, upsert=True)
    assert live.ratio == 0.5
    confirmed.removed += 5
    assert live.ratio == 0.75


def test_no_time_left_is_guessed_while_the_run_only_waits_for_sendgrids_jobs() -> None:
    # Extrapolated from the sending, the estimate grew as the job ran (1 s, 5 s, 9 s
    # left...), and said "about 0 s left" with the job still 40 s from done.
    clock = ManualClock(100.0)
    live = RunProgress(clock)
    live.planned(to_send=10, to_remove=10, confirmed=Confirmed())
    live.enter("sending")
    clock.now_value = 110.0
    live.batch_submitted(10, upsert=True)
    assert live.eta_seconds(clock.now()) == 10.0  # half done in 10 s
    live.enter("waitingForJobs")
    clock.now_value = 140.0
    assert live.eta_seconds(clock.now()) is None
    assert live.shape().eta_seconds is None
