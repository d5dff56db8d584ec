"""D2: `kill -9` of `syncd run` at random moments while the source keeps changing.

The daemon refreshes every second against an emulator whose jobs take 0.3 s, the segment is
rewritten every 50-300 ms (values changed, people added and removed), and the process dies
and is started again, for a bounded time (`SYNCD_CHAOS_SECONDS`, default 20;
`SYNCD_TEST_SEED` makes the run repeatable): SIGKILLed at a random moment, or, one start in
two, earlier than that at a random failpoint armed on its start (`os._exit` at the n-th hit,
n from 1 to 3), so that the narrow windows between two commits are hit too, in the middle of
continuous change. Then the source stops changing and syncd runs until quiet. Required
(docs/guarantees.md, row D2): 0 lost; no contact ever in two open batches, checked both in
the ledger (sampled while it runs) and from SendGrid's side (no new value sent while an
older one was in flight)."""

from __future__ import annotations

import asyncio
import os
import random

import pytest

from syncd.emulator import EmulatorConfig
from tests.guarantees.harness import (
    FAILPOINT_EXIT,
    Scene,
    contacts_in_two_open_batches,
    harness_config,
    record_figure,
    seed,
)

SECONDS = float(os.environ.get("SYNCD_CHAOS_SECONDS", "20"))
FAILPOINTS = (
    "after-outbox-commit",
    "before-upsert-request",
    "after-202-before-job-commit",
    "after-job-commit",
    "while-polling",
    "after-completed-before-ack",
    "after-ack-commit",
)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return harness_config(job_delay=0.3)


@pytest.fixture
def scene_size() -> int:
    return 300


@pytest.mark.slow
async def test_random_kills_during_churn_lose_nothing_and_never_overlap_batches(
    scene: Scene,
) -> None:
    s = scene
    # Churn while syncd is killed again and again can leave more than the default 20 %
    # of the list waiting to be removed; the removal guard has its own tests, D2 is
    # about delivery.
    s.write_destination(schedule={"interval": "1s"}, limits={"maxRemovalFraction": 1.0})
    rng = random.Random(seed())
    done = asyncio.Event()
    doubled: list[str] = []
    rewrites = 0

    async def churn() -> None:
        nonlocal rewrites
        while not done.is_set():
            s.segment.churn(
                changes=rng.randint(1, 30), adds=rng.randint(0, 5), removes=rng.randint(0, 3)
            )
            s.segment.write()
            rewrites += 1
            await asyncio.sleep(rng.uniform(0.05, 0.3))

    async def sample_ledger() -> None:
        while not done.is_set():
            doubled.extend(await asyncio.to_thread(contacts_in_two_open_batches, s.state))
            await asyncio.sleep(0.05)

    loop = asyncio.get_running_loop()
    daemon = s.daemon()
    await daemon.start()
    kills = 0
    crashes: list[str] = []
    tasks = [
        asyncio.create_task(churn(), name="d2:churn"),
        asyncio.create_task(sample_ledger(), name="d2:ledger"),
    ]
    try:
        deadline = loop.time() + SECONDS
        while loop.time() < deadline:
            await asyncio.sleep(rng.uniform(0.2, 2.0))
            if daemon.running:
                await daemon.kill()
                kills += 1
            else:  # it reached its failpoint first
                assert await daemon.wait() == FAILPOINT_EXIT, daemon.output()[-3000:]
                crashes.append(daemon.env["SYNCD_FAILPOINTS"].split("=")[0])
            armed = ""
            if rng.random() < 0.5:
                armed = f"{rng.choice(FAILPOINTS)}=exit@{rng.randint(1, 3)}"
            daemon = s.daemon(SYNCD_FAILPOINTS=armed)
            await daemon.start(ready_within=None)
    finally:
        done.set()
        await asyncio.gather(*tasks)
    if daemon.running:  # the last one too
        await daemon.kill()
        kills += 1

    runs = await s.until_quiet()
    result = await s.audit()
    record_figure(
        "D2",
        seconds=SECONDS,
        seed=seed(),
        kills=kills,
        failpoint_crashes=len(crashes),
        failpoints_hit=sorted(set(crashes)),
        source_rewrites=rewrites,
        quiet_after_runs=len(runs),
        ledger_doubles=len(doubled),
        **result.figures(),
    )
    assert kills >= 5
    assert result.lost == [], result.lost[:5]
    assert result.extra == [], result.extra[:5]
    assert doubled == []
    assert not result.overlaps, sorted(result.overlaps)[:5]
    # at most the batch in doubt, per death
    assert len(result.redundant_requests) <= kills + len(crashes)
    assert result.unnecessary == 0
