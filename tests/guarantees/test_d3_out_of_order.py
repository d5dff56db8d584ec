"""D3: SendGrid applies jobs out of order while contacts change three times in quick succession.

The emulator holds due jobs and applies them newest first (`out_of_order`), jobs take 0.8 s,
and the first upsert is cut off twice after being applied, so three jobs of it are in flight
at once. The daemon (refresh every second, giving up on open jobs after 0.3 s so that later
runs start while they are still pending) sees 100 of 200 contacts change three times, 100 ms
apart, while the first value is still in flight. Required (docs/guarantees.md, row D3):
every contact ends on its latest value. What makes it hold is the outbox rule "a contact in
an open batch waits until that batch ends": no newer value is ever in flight beside an older
one, so no reordering can put an older value last."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest

from syncd.emulator import EmulatorConfig, FaultRule
from tests.guarantees.harness import UPSERT, Scene, harness_config, record_figure


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return harness_config(
        job_delay=0.8,
        faults=[
            FaultRule(kind="out_of_order", seconds=0.4),
            FaultRule(kind="reset_after_apply", template=UPSERT, times=2),
        ],
    )


@pytest.fixture
def scene_size() -> int:
    return 200


@pytest.mark.slow
async def test_jobs_applied_newest_first_still_leave_every_contact_on_its_latest_value(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="syncd.emulator")
    s = scene
    s.write_destination(schedule={"interval": "1s"})
    daemon = s.daemon(SYNCD_JOB_TIMEOUT="0.3")
    await daemon.start()
    async with asyncio.timeout(15):
        while not any(r.template == UPSERT and r.status == 202 for r in s.emulator.requests):
            await asyncio.sleep(0.02)
    in_flight = s.emulator.services.jobs.pending
    changing = s.segment.change(100)
    s.segment.write()
    for _ in range(2):
        await asyncio.sleep(0.1)
        s.segment.change(0, emails=changing)
        s.segment.write()

    converged = await s.until_converged(within=20)
    assert await daemon.stop() == 0, daemon.output()[-3000:]
    runs = await s.until_quiet()
    result = await s.audit()

    applied = [
        r.args[0]
        for r in caplog.records
        if r.name == "syncd.emulator"
        and str(r.msg).startswith("job ")
        and isinstance(r.args, tuple)
    ]
    order = [s.emulator.jobs[str(job)].sequence for job in applied]
    reordered = sum(1 for a, b in itertools.pairwise(order) if a > b)
    latest = sum(1 for e in changing if e.lower() not in result.lost)
    record_figure(
        "D3",
        jobs_in_flight_when_changed=in_flight,
        jobs_applied_before_an_older_one=reordered,
        daemon_converged=converged,
        quiet_after_runs=len(runs),
        changed_on_latest_value_pct=100 * latest / len(changing),
        **result.figures(),
    )
    assert in_flight >= 2  # the first value was in flight, in several jobs
    assert reordered >= 1  # the emulator really applied a newer job before an older one
    assert result.lost == [], result.lost[:5]
    assert result.extra == []
    assert not result.overlaps
    assert converged  # the daemon itself got there, not only the final sync
