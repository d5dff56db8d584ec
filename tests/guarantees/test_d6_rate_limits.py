"""D6: 429 storms, exhausted rate-limit windows and 5xx answers.

Required (docs/guarantees.md, row D6): 0 lost; no request sent to an endpoint while
SendGrid's last word for it was `X-RateLimit-Remaining: 0`, before the `X-RateLimit-Reset`
it announced. Checked from the emulator's request log: its timestamps against the resets it
announced.

Two versions: syncd as a real process with short windows (seconds of real time), and
syncd's reconciler in this process on fake loop time (looptime) with SendGrid-sized
windows (60 s storms, 30 s windows), the emulator and syncd sharing one `LoopClock`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from multidict import CIMultiDict

from syncd.clock import LoopClock
from syncd.emulator import EmulatorConfig, FaultRule, RateBudget, running_emulator
from syncd.sendgrid import RateGates
from tests.guarantees.harness import (
    JOB,
    UPSERT,
    Scene,
    harness_config,
    rate_limit_violations,
    record_figure,
    seed,
)

GET_LIST = "GET /v3/marketing/lists/{id}"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return harness_config(job_delay=0.5, endpoint_rate_limits={JOB: RateBudget(limit=3, window=1)})


@pytest.fixture
def scene_size() -> int:
    return 300


def count(scene: Scene, status: int) -> int:
    return sum(1 for r in scene.emulator.requests if r.status == status)


@pytest.mark.slow
async def test_a_real_process_waits_out_storms_and_windows_and_loses_nothing(scene: Scene) -> None:
    s = scene
    s.emulator.faults.add(FaultRule(kind="rate_limit_storm", template=UPSERT, times=2, seconds=1))
    s.emulator.faults.add(FaultRule(kind="status", template=UPSERT, status=503, times=1))
    s.emulator.faults.add(FaultRule(kind="status", template=JOB, status=502, times=1))
    first = await s.sync()
    assert first.code == 0, first.describe()
    runs = await s.until_quiet()
    violations = rate_limit_violations(s.emulator)
    result = await s.audit()
    record_figure(
        "D6",
        case="real process, short windows",
        answered_429=count(s, 429),
        answered_5xx=sum(1 for r in s.emulator.requests if (r.status or 0) >= 500),
        exhausted_windows=sum(
            1
            for e in s.emulator.exchanges
            if CIMultiDict(e.response_headers).get("X-RateLimit-Remaining") == "0"
        ),
        sent_before_reset=len(violations),
        quiet_after_runs=len(runs),
        **result.figures(),
    )
    assert count(s, 429) == 2
    assert violations == []
    assert result.lost == []
    assert result.extra == []
    assert result.unnecessary == 0


@pytest.mark.looptime(idle_step=0.01)  # threads (SQLite, file reads) advance it in small steps
async def test_sendgrid_sized_storms_on_fake_time_are_waited_out_to_the_announced_reset(
    tmp_path: Path,
) -> None:
    clock = LoopClock()
    config = harness_config(
        wall_clock=clock.now,
        job_delay=20,
        endpoint_rate_limits={
            JOB: RateBudget(limit=2, window=30),
            GET_LIST: RateBudget(limit=1, window=60),
        },
        faults=[
            FaultRule(kind="rate_limit_storm", template=UPSERT, times=3, seconds=60),
            FaultRule(kind="status", template=UPSERT, status=503, times=2),
            FaultRule(kind="status", template=JOB, status=500, times=2),
        ],
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with running_emulator(config) as emulator:
        s = Scene(tmp_path, emulator, size=500, seed=seed())
        settings = {"job_poll_max_interval": 30.0, "job_timeout": 3600.0}
        gates = RateGates(clock)  # one process: what SendGrid said of its windows is kept
        first = await s.sync_here(settings, clock=clock, gates=gates)
        assert first.outcome == "success", first.error
        s.segment.churn(changes=100, adds=50, removes=20)
        s.segment.write()
        emulator.faults.add(FaultRule(kind="rate_limit_storm", duration=90))
        second = await s.sync_here(settings, clock=clock, gates=gates)
        assert second.outcome == "success", second.error
        await asyncio.sleep(emulator.config.search_lag)  # search shows the removals done
        writes = len(emulator.write_requests())
        third = await s.sync_here(settings, clock=clock, gates=gates)
        assert third.counts()["upserted"] == 0
        assert len(emulator.write_requests()) == writes
        assert third.applied.pending_removals == 0
        violations = rate_limit_violations(emulator)
        result = await s.audit()
        storms = sum(1 for r in emulator.requests if r.status == 429)
        spent = sum(  # windows used up by syncd's own requests (no 429): it must wait too
            1
            for e in emulator.exchanges
            if e.status != 429
            and CIMultiDict(e.response_headers).get("X-RateLimit-Remaining") == "0"
        )
        assert s.leaks() == []
    elapsed = loop.time() - started
    record_figure(
        "D6",
        case="fake time, 60 s storms and 30 s windows",
        answered_429=storms,
        windows_used_up=spent,
        sent_before_reset=len(violations),
        fake_seconds=round(elapsed),
        **result.figures(),
    )
    assert storms >= 4
    assert spent >= 1
    assert elapsed >= 150  # three 60 s storms and a 90 s one were waited out, in fake time
    assert violations == []
    assert result.lost == []
    assert result.extra == []
    assert result.unnecessary == 0
