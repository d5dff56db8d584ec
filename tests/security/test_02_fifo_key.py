"""Threat 2 (high): a FIFO as `apiKey: {file: ...}` froze the whole daemon.

The key was read on the event loop with a blocking open: `/healthz` timed out, the other
destinations stopped, and SIGTERM waited until someone wrote to the FIFO.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from syncd.emulator import Emulator
from tests.daemon.process import Daemon
from tests.reconciling.world import World, emails, people
from tests.security.common import env_for

SHUTDOWN_TIMEOUT = 5.0


async def test_a_fifo_key_file_is_refused_while_everything_else_goes_on(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    os.mkfifo(secrets / "api-key")  # nobody ever writes to it
    world.destination(
        {"vip": world.csv("stuck", people(0, 5))},
        name="stuck",
        sendgrid={
            "apiKey": {"file": "../secrets/api-key"},
            "listId": "33333333-3333-4333-8333-333333333333",
        },
    )
    world.destination({"vip": world.csv("vip", people(10, 20))}, name="members")
    env = env_for(
        world, SYNCD_SECRET_DIRS=str(secrets), SYNCD_SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT)
    )
    daemon = Daemon(env)
    await daemon.start()
    try:
        stuck = await daemon.until(
            "/v1/destinations/stuck", lambda s: s["lastRun"] and s["lastRun"]["outcome"]
        )
        members = await daemon.until(
            "/v1/destinations/members", lambda s: s["lastRun"] and s["lastRun"]["outcome"]
        )
        async with asyncio.timeout(2):  # the loop answers at once, again and again
            for _ in range(5):
                assert (await daemon.get("/healthz"))[0] == 200
    finally:
        started = time.monotonic()
        code = await daemon.stop(signal.SIGTERM, within=SHUTDOWN_TIMEOUT + 10)
        stopped_in = time.monotonic() - started

    assert stuck["lastRun"]["outcome"] == "permanent"
    assert "secret file" in stuck["lastRun"]["error"]
    assert "is not a regular file" in stuck["lastRun"]["error"]
    assert members["lastRun"]["outcome"] == "success"
    assert world.members() == emails(people(10, 20))
    assert code == 0, daemon.output()
    assert stopped_in < SHUTDOWN_TIMEOUT + 2
