"""A replica paused mid-run loses its lock; its late commit is refused by the epoch fence."""

from __future__ import annotations

import asyncio
import os
import signal

import psycopg
import pytest

from syncd.emulator import EmulatorConfig, ListSeed
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.world import World, emails, people
from tests.replicas.test_replicas import LISTS, NAMES, Replica, replicas, world

pytestmark = pytest.mark.postgres
__all__ = ["replicas", "world"]


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """Jobs stay pending for 3 s: long enough to pause a replica while it polls."""
    return strict_emulator_config(
        lists=[ListSeed(id=list_id, name=name) for list_id, name in zip(LISTS, NAMES, strict=True)],
        job_delay=3.0,
    )


@pytest.mark.slow
async def test_a_paused_replicas_late_commit_is_refused_by_the_epoch(
    world: World, replicas: list[Replica]
) -> None:
    w = world
    for name in NAMES[1:]:
        (w.destinations / f"{name}.yaml").unlink()
    paused = Replica(w, "paused", claim_interval=60)  # would not notice losing its lock itself
    await paused.start()
    replicas.append(paused)
    async with asyncio.timeout(20):
        while not w.emulator.count_requests(template="PUT /v3/marketing/contacts", status=202):
            await asyncio.sleep(0.05)
    assert paused.process is not None
    os.kill(paused.process.pid, signal.SIGSTOP)
    with psycopg.connect(w.settings.state, autocommit=True) as db:
        db.execute(
            b"SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            b" WHERE application_name = 'syncd-leases:paused'"
        )
    taker = Replica(w, "taker")
    await taker.start()
    replicas.append(taker)
    async with asyncio.timeout(20):
        while "alpha" not in await taker.owned():
            await asyncio.sleep(0.1)
    os.kill(paused.process.pid, signal.SIGCONT)
    async with asyncio.timeout(30):
        while "was claimed by another run" not in paused.output():
            await asyncio.sleep(0.1)
    status = await taker.until(
        "/v1/destinations/alpha",
        lambda s: (s["lastRun"] or {}).get("outcome") == "success",
        within=30,
    )
    assert status["owned"]
    assert w.emulator.state.list_members(LISTS[0]) == emails(people(0, 25))
