"""`syncd sync` beside a daemon on a PostgreSQL ledger: there is no lock file to say the
daemon is there, so the command asks whichever daemon on the same ledger answers."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.reconciling.world import World
from tests.replicas.test_replicas import Replica, emulator_config, replica_env, replicas, world

pytestmark = pytest.mark.postgres
__all__ = ["emulator_config", "replicas", "world"]


@pytest.mark.slow
async def test_sync_asks_the_daemon_on_the_same_postgresql_ledger(
    world: World, replicas: list[Replica]
) -> None:
    # It ran the sync itself, taking the destination's claim from the daemon's run, which
    # then ended permanent: the destination stalled until its file changed.
    daemon = Replica(world, "only")
    await daemon.start()
    replicas.append(daemon)
    await daemon.until(
        "/v1/destinations/alpha", lambda s: (s["lastRun"] or {}).get("outcome") == "success"
    )
    env = {**replica_env(world, "cli"), "SYNCD_LISTEN": f"127.0.0.1:{daemon.port}"}
    env.pop("SYNCD_REPLICA_ID")
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        "sync",
        "alpha",
        env={**daemon.env, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(command.communicate(), timeout=60)

    assert command.returncode == 0, err.decode()
    assert "asked it to sync now" in err.decode()
    status = await daemon.until("/v1/destinations/alpha", lambda s: s["state"] != "reconciling")
    assert status["state"] == "ready"
