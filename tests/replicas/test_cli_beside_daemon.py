"""`syncd sync` beside a daemon on a PostgreSQL ledger. There is no lock file to say the
daemon is there, and whatever answers at SYNCD_LISTEN proves nothing (it would be sent the
admin token), so the command runs the sync itself: the daemon's run under way loses its
claim, stops without committing, and is tried again, never stalled."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.reconciling.world import World
from tests.replicas.test_fencing import emulator_config
from tests.replicas.test_replicas import NAMES, Replica, replica_env, replicas, world

pytestmark = pytest.mark.postgres
__all__ = ["emulator_config", "replicas", "world"]

UPSERT = "PUT /v3/marketing/contacts"


@pytest.mark.slow
async def test_sync_beside_a_daemon_on_postgresql_never_stalls_the_daemons_destination(
    world: World, replicas: list[Replica]
) -> None:
    # The daemon's run that lost its claim ended permanent: the destination stalled until
    # its file changed.
    for name in NAMES[1:]:
        (world.destinations / f"{name}.yaml").unlink()
    daemon = Replica(world, "only")
    await daemon.start()
    replicas.append(daemon)
    async with asyncio.timeout(20):  # the daemon's run waits on its job
        while not world.emulator.count_requests(template=UPSERT, status=202):
            await asyncio.sleep(0.05)
    env = {**daemon.env, **replica_env(world, "cli"), "SYNCD_LISTEN": f"127.0.0.1:{daemon.port}"}
    env.pop("SYNCD_REPLICA_ID")
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        "sync",
        "alpha",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(command.communicate(), timeout=60)

    assert command.returncode == 0, err.decode()
    assert "asking it" not in err.decode()  # nothing was sent to whatever listens there
    status = await daemon.until(
        "/v1/destinations/alpha",
        lambda s: (s["lastRun"] or {}).get("outcome") == "success" and s["state"] == "ready",
        within=30,
    )
    assert status["consecutiveFailures"] == 0
    _, history = await daemon.get("/v1/destinations/alpha/runs")
    outcomes = [r["outcome"] for r in reversed(history["runs"])]
    assert outcomes[:2] == ["temporary", "success"], history  # the daemon's, the command's
    assert "another process ran the destination" in history["runs"][-1]["error"]
