"""After a restart the status comes back from the ledger's runs, before any new run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from syncd.clock import LoopClock
from syncd.ledger import DestinationSummary, RunRecord
from syncd.metrics import Metrics
from syncd.scheduling import Past, Scheduler
from tests.scheduling.fakes import FakeRunner, destination

pytestmark = pytest.mark.looptime

T0 = 1_800_000_000.0


def run(run_id: int, outcome: str, ended: float, digest: str, **counts: int) -> RunRecord:
    return RunRecord(
        id=run_id,
        destination="a",
        trigger="schedule",
        digest=digest,
        started_at=ended - 5,
        ended_at=ended,
        outcome=outcome,
        counts=dict(counts),
        error=None if outcome == "success" else f"{outcome} failure",
    )


def past(runs: list[RunRecord], *, open_batches: int = 0) -> Past:
    successes = [r.ended_at for r in runs if r.outcome == "success"]
    summary = DestinationSummary(
        destination="a",
        last_run=runs[-1],
        last_success_at=max((t for t in successes if t is not None), default=None),
        open_batches=open_batches,
        oldest_open_batch_at=None,
    )
    return Past(summary, list(reversed(runs)))  # the ledger lists the newest first


async def test_states_conditions_and_gauges_come_back_without_running(tmp_path: Path) -> None:
    loaded = destination(tmp_path, "a", schedule={"interval": "1h"})
    runs = [
        run(1, "temporary", T0 - 300, loaded.digest),
        run(2, "success", T0 - 200, loaded.digest, profiles=40),
        run(3, "success", T0 - 100, loaded.digest, profiles=42),
    ]
    runner, metrics = FakeRunner(), Metrics()
    scheduler = Scheduler(
        runner,
        metrics,
        LoopClock(),
        max_concurrent_runs=1,
        backoff_max=60,
        history={"a": past(runs)},
    )
    try:
        await scheduler.apply({"a": loaded})
        await asyncio.sleep(1)
        status = scheduler.status("a")
    finally:
        await scheduler.shutdown(grace=5)

    assert runner.calls == []
    assert status.state == "ready"
    # In the order a running daemon shows them (restoring set the runs' ones first).
    assert [c.type for c in status.conditions] == ["FileValid", "Reconciling", "Ready", "Stalled"]
    ready = {c.type: c for c in status.conditions}["Ready"]
    assert (ready.status, ready.last_transition_time) == ("True", "2027-01-15T07:56:40Z")
    assert status.last_success_at == "2027-01-15T07:58:20Z"
    assert status.last_run is not None
    assert (status.last_run.id, status.last_run.counts.profiles) == (3, 42)
    assert status.consecutive_failures == 0

    def gauge(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, labels)

    assert gauge("syncd_last_success_timestamp_seconds", destination="a") == T0 - 100
    assert gauge("syncd_last_attempt_timestamp_seconds", destination="a") == T0 - 100
    assert gauge("syncd_segment_profiles", destination="a") == 42
    assert gauge("syncd_destinations", state="ready") == 1
    assert gauge("syncd_destinations", state="pending") == 0


async def test_a_stalled_destination_stays_stalled_and_counts_its_failures(
    tmp_path: Path,
) -> None:
    loaded = destination(tmp_path, "a", schedule={"interval": "1h"})
    runs = [
        run(1, "success", T0 - 300, loaded.digest),
        run(2, "permanent", T0 - 200, loaded.digest),
        run(3, "permanent", T0 - 100, loaded.digest),
    ]
    scheduler = Scheduler(
        FakeRunner(),
        Metrics(),
        LoopClock(),
        max_concurrent_runs=1,
        backoff_max=60,
        history={"a": past(runs)},
    )
    try:
        await scheduler.apply({"a": loaded})
        status = scheduler.status("a")
    finally:
        await scheduler.shutdown(grace=5)
    assert (status.state, status.consecutive_failures) == ("stalled", 2)
    stalled = {c.type: c for c in status.conditions}["Stalled"]
    assert (stalled.status, stalled.last_transition_time) == ("True", "2027-01-15T07:56:40Z")


async def test_a_run_cut_short_by_a_crash_is_run_again_at_once(tmp_path: Path) -> None:
    loaded = destination(tmp_path, "a", schedule={"interval": "1h"})
    crashed = RunRecord(4, "a", "schedule", loaded.digest, T0 - 50, None, None)
    runner = FakeRunner()
    scheduler = Scheduler(
        runner,
        Metrics(),
        LoopClock(),
        max_concurrent_runs=1,
        backoff_max=60,
        history={"a": past([run(3, "success", T0 - 100, loaded.digest), crashed])},
    )
    try:
        await scheduler.apply({"a": loaded})
        await asyncio.sleep(2)
    finally:
        await scheduler.shutdown(grace=5)
    assert len(runner.calls) == 1
