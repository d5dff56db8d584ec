"""The scheduler on fake loop time: intervals, cron, backoff, triggers, concurrency, shutdown."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from syncd.clock import LoopClock
from syncd.metrics import Metrics
from syncd.scheduling import Scheduler, Suspended, UnknownDestination
from tests.scheduling.fakes import FakeRunner, destination

pytestmark = pytest.mark.looptime


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
async def scheduler(runner: FakeRunner) -> AsyncIterator[Scheduler]:
    built = Scheduler(runner, Metrics(), LoopClock(), max_concurrent_runs=2, backoff_max=300)
    yield built
    await built.shutdown(grace=5)


async def at(when: float) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, when - loop.time()))


async def test_an_interval_destination_runs_at_once_then_every_interval(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    start = asyncio.get_running_loop().time()
    await scheduler.apply({"a": destination(tmp_path, "a", schedule={"interval": "60s"})})
    await at(start + 200)
    assert [t - start for t in runner.times("a")] == [0, 60, 120, 180]


async def test_a_cron_destination_runs_on_its_minutes(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    clock = scheduler.clock
    start = asyncio.get_running_loop().time()
    await scheduler.apply({"c": destination(tmp_path, "c", schedule={"cron": "*/5 * * * *"})})
    await at(start + 1900)
    walls = [clock.now() - (asyncio.get_running_loop().time() - t) for t in runner.times("c")]
    assert len(walls) >= 7
    assert all(round(w) % 300 == 0 for w in walls[1:])  # every later run on a 5-minute mark


async def test_temporary_failures_back_off_and_a_success_resets_the_rhythm(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    runner.outcomes["b"] = ["temporary", "temporary", "temporary", "success"]
    start = asyncio.get_running_loop().time()
    await scheduler.apply({"b": destination(tmp_path, "b", schedule={"interval": "1h"})})
    await at(start + 120)
    times = [t - start for t in runner.times("b")]
    assert len(times) == 4
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] < gaps[1] < gaps[2] <= 60  # exponential, well under the hour
    status = scheduler.status("b")
    assert status.state == "ready"
    assert status.consecutive_failures == 0


async def test_a_permanent_failure_waits_for_the_file_or_a_person(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    runner.outcomes["p"] = ["permanent"]
    start = asyncio.get_running_loop().time()
    loaded = destination(tmp_path, "p", schedule={"interval": "60s"})
    await scheduler.apply({"p": loaded})
    await at(start + 600)
    assert len(runner.times("p")) == 1
    status = scheduler.status("p")
    assert status.state == "stalled"
    assert {c.type: c.status for c in status.conditions}["Stalled"] == "True"
    scheduler.trigger("p")
    await at(start + 602)
    assert len(runner.times("p")) == 2
    assert runner.calls[-1].trigger == "manual"


async def test_a_changed_file_runs_again_at_once(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    start = asyncio.get_running_loop().time()
    await scheduler.apply({"a": destination(tmp_path, "a", schedule={"interval": "1h"})})
    await at(start + 100)
    await scheduler.apply(
        {"a": destination(tmp_path, "a", schedule={"interval": "1h"}, displayName="Renamed")}
    )
    await at(start + 105)
    assert [t - start for t in runner.times("a")] == [0, 100]


async def test_an_unchanged_file_is_left_alone_and_a_renamed_one_only_renamed(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    start = asyncio.get_running_loop().time()
    loaded = destination(tmp_path, "a", schedule={"interval": "1h"})
    await scheduler.apply({"a": loaded})
    await at(start + 100)
    await scheduler.apply({"a": loaded})
    await at(start + 200)
    renamed = dataclasses.replace(loaded, path=loaded.path.with_name("a-renamed.yaml"))
    await scheduler.apply({"a": renamed})
    await at(start + 300)
    assert len(runner.times("a")) == 1
    assert scheduler.status("a").file == "a-renamed.yaml"  # named, nothing run


async def test_a_removed_destination_stops_and_others_go_on(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    start = asyncio.get_running_loop().time()
    a = destination(tmp_path, "a", schedule={"interval": "60s"})
    b = destination(tmp_path, "b", schedule={"interval": "60s"})
    await scheduler.apply({"a": a, "b": b})
    await at(start + 30)
    await scheduler.apply({"b": b})
    await at(start + 200)
    assert len(runner.times("a")) == 1
    assert len(runner.times("b")) == 4
    with pytest.raises(UnknownDestination):
        scheduler.status("a")


async def test_runs_at_once_are_bounded_and_one_destination_never_overlaps(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    runner.duration = 50
    start = asyncio.get_running_loop().time()
    await scheduler.apply(
        {n: destination(tmp_path, n, schedule={"interval": "10s"}) for n in "abcde"}
    )
    scheduler.trigger("a")
    scheduler.trigger("a")
    await at(start + 400)
    assert runner.most_at_once == 2
    a_times = runner.times("a")
    assert all(later - earlier >= 50 for earlier, later in itertools.pairwise(a_times))


async def test_a_suspended_destination_does_not_run_and_refuses_triggers(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    start = asyncio.get_running_loop().time()
    await scheduler.apply({"s": destination(tmp_path, "s", suspend=True)})
    await at(start + 100)
    assert runner.times("s") == []
    assert scheduler.status("s").state == "suspended"
    with pytest.raises(Suspended):
        scheduler.trigger("s")


async def test_a_trigger_can_confirm_removals_and_is_acknowledged_in_status(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    start = asyncio.get_running_loop().time()
    await scheduler.apply({"a": destination(tmp_path, "a", schedule={"interval": "1h"})})
    await at(start + 10)
    request = scheduler.trigger("a", allow_removals=True)
    await at(start + 20)
    assert runner.calls[-1].allow_removals
    assert scheduler.status("a").last_handled_request == request


async def test_shutdown_lets_the_run_in_flight_reach_its_end(
    runner: FakeRunner, tmp_path: Path
) -> None:
    runner.duration = 5
    scheduler = Scheduler(runner, Metrics(), LoopClock(), max_concurrent_runs=2, backoff_max=300)
    await scheduler.apply({"a": destination(tmp_path, "a")})
    await asyncio.sleep(1)
    await scheduler.shutdown(grace=20)
    assert runner.running == 0
    last_run = scheduler.status("a").last_run
    assert last_run is not None
    assert last_run.error == "stopped"
