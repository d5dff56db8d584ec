"""The daemon carries an erasure request out between runs of the destinations it touches,
never during one (the scheduler on fake loop time, a runner that takes 10 s a run)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from syncd.clock import LoopClock
from syncd.metrics import Metrics
from syncd.scheduling import Scheduler
from tests.scheduling.fakes import FakeRunner, destination

pytestmark = pytest.mark.looptime


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner(duration=10)


@pytest.fixture
async def scheduler(runner: FakeRunner) -> AsyncIterator[Scheduler]:
    built = Scheduler(runner, Metrics(), LoopClock(), max_concurrent_runs=4, backoff_max=300)
    yield built
    await built.shutdown(grace=5)


async def test_work_waits_for_the_run_in_progress_and_holds_the_next_one_back(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    hourly = {"schedule": {"interval": "1h"}}
    await scheduler.apply(
        {"a": destination(tmp_path, "a", **hourly), "b": destination(tmp_path, "b", **hourly)}
    )
    await asyncio.sleep(5)  # both run from 0 to 10
    spans: list[tuple[float, float]] = []

    async def work() -> str:
        began = loop.time() - start
        scheduler.trigger("a")  # asked for while the work goes on: it waits
        scheduler.trigger("b")  # not touched by the work: it runs at once
        await asyncio.sleep(20)
        spans.append((began, loop.time() - start))
        return "done"

    assert await scheduler.between_runs(["a", "nobody"], work) == "done"
    await asyncio.sleep(30)
    assert spans == [(10, 30)]
    assert [t - start for t in runner.times("a")] == [0, 30]
    assert [t - start for t in runner.times("b")] == [0, 10]


async def test_a_destination_can_be_brought_forward(
    scheduler: Scheduler, runner: FakeRunner, tmp_path: Path
) -> None:
    start = asyncio.get_running_loop().time()
    await scheduler.apply({"a": destination(tmp_path, "a", schedule={"interval": "1h"})})
    await asyncio.sleep(15)
    scheduler.run_by("a", scheduler.clock.now() + 60)
    scheduler.run_by("a", scheduler.clock.now() + 600)  # never later than asked before
    scheduler.run_by("nobody", scheduler.clock.now())
    await asyncio.sleep(100)
    assert [round(t - start) for t in runner.times("a")] == [0, 75]
