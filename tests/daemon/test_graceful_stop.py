"""SIGTERM while SendGrid still holds a job: stop gracefully, resume without re-sending."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from syncd.emulator import EmulatorConfig
from tests.daemon.process import Daemon
from tests.daemon.test_daemon import UPSERT, daemon_world, env_for
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.world import World, emails, people

__all__ = ["daemon_world"]


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return strict_emulator_config(job_delay=2.0)


@pytest.mark.slow
async def test_sigterm_mid_run_exits_0_and_the_next_start_resumes_without_resending(
    daemon_world: World,
) -> None:
    w = daemon_world
    rows = people(0, 40)
    w.destination({"vip": w.csv("vip", rows)}, name="members")
    daemon = Daemon(env_for(w))
    await daemon.start()
    async with asyncio.timeout(15):
        while w.emulator.count_requests(template=UPSERT, status=202) == 0:
            await asyncio.sleep(0.05)
    started = asyncio.get_running_loop().time()
    assert await daemon.stop(signal.SIGTERM) == 0, daemon.output()
    assert asyncio.get_running_loop().time() - started < 10
    assert '"event": "daemon.stopped"' in daemon.output()
    puts = w.emulator.count_requests(template=UPSERT)

    again = Daemon(env_for(w))
    await again.start()
    await again.until(
        "/v1/destinations/members",
        lambda s: (s["lastRun"] or {}).get("outcome") == "success",
        within=20,
    )
    assert await again.stop() == 0
    assert w.emulator.count_requests(template=UPSERT) == puts  # the job was polled, not re-sent
    assert w.members() == emails(rows)


@pytest.mark.slow
async def test_sigterm_stops_run_once_at_a_safe_point(daemon_world: World) -> None:
    w = daemon_world
    rows = people(0, 40)
    w.destination({"vip": w.csv("vip", rows)}, name="members")
    once = Daemon(env_for(w), "run", "--once")
    handle = once.log.open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "syncd", "run", "--once", env=once.env, stdout=handle, stderr=handle
    )
    handle.close()
    once.process = process
    async with asyncio.timeout(15):
        while w.emulator.count_requests(template=UPSERT, status=202) == 0:
            await asyncio.sleep(0.05)
    started = asyncio.get_running_loop().time()
    assert await once.stop(signal.SIGTERM) == 1  # its run did not finish
    assert asyncio.get_running_loop().time() - started < 5
    assert "stopped" in once.output() or "stopping" in once.output()
    again = Daemon(env_for(w), "run", "--once")
    handle = again.log.open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "syncd", "run", "--once", env=again.env, stdout=handle, stderr=handle
    )
    handle.close()
    assert await asyncio.wait_for(process.wait(), 30) == 0, again.output()
    assert w.emulator.count_requests(template=UPSERT) == 1  # the job was polled, not re-sent
    assert w.members() == emails(rows)
