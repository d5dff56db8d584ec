"""`syncd run` as a process: HTTP endpoints, hot reload, on-demand runs, graceful stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from syncd.emulator import Emulator
from tests.daemon.process import Daemon
from tests.fixtures_emulator import TEST_API_KEY
from tests.reconciling.world import World, emails, people

UPSERT = "PUT /v3/marketing/contacts"


def env_for(world: World, **extra: str) -> dict[str, str]:
    return {
        "SENDGRID_API_KEY": TEST_API_KEY,
        "SYNCD_SENDGRID_BASE_URL": world.emulator.url,
        "SYNCD_DESTINATIONS": str(world.destinations),
        "SYNCD_STATE": str(world.root / "daemon-state.db"),
        "SYNCD_LOG_FORMAT": "json",
        "SYNCD_RESCAN_INTERVAL": "1",
        "SYNCD_DEBOUNCE": "0.2",
        "SYNCD_JOB_POLL_MAX_INTERVAL": "0.2",
        **extra,
    }


@pytest.fixture
def daemon_world(tmp_path: Path, emulator: Emulator) -> World:
    built = World(tmp_path, emulator)
    built.ledger.close()
    return built


@pytest.fixture
async def running(daemon_world: World) -> AsyncIterator[Daemon]:
    w = daemon_world
    w.destination({"vip": w.csv("vip", people(0, 30))}, name="members")
    daemon = Daemon(env_for(w, SYNCD_ADMIN_TOKEN="let-me-in"))
    await daemon.start()
    yield daemon
    code = await daemon.stop()
    assert code == 0, daemon.output()


def by_name(body: Any) -> dict[str, Any]:
    return {d["name"]: d for d in body["destinations"]}


async def test_health_readiness_status_and_metrics_over_http(
    running: Daemon, daemon_world: World
) -> None:
    assert (await running.get("/healthz"))[0] == 200
    status = await running.until(
        "/v1/destinations/members", lambda s: s["lastRun"] and s["lastRun"]["outcome"]
    )
    assert status["lastRun"]["outcome"] == "success"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert status["nextRunAt"]
    assert daemon_world.members() == emails(people(0, 30))
    code, metrics = await running.get("/metrics")
    assert code == 200
    assert 'syncd_reconcile_total{destination="members",outcome="success"} 1.0' in metrics
    assert 'syncd_contacts_total{action="upserted",destination="members"} 30.0' in metrics
    assert (await running.get("/v1/destinations/nobody"))[0] == 404


@pytest.mark.slow
async def test_an_on_demand_run_needs_the_token_and_is_acknowledged(running: Daemon) -> None:
    await running.until("/v1/destinations/members", lambda s: s["lastRun"]["outcome"])
    assert (await running.post("/v1/destinations/members/sync"))[0] == 401
    assert (await running.post("/v1/destinations/members/sync", token="wrong"))[0] == 401
    code, body = await running.post("/v1/destinations/members/sync", token="let-me-in")
    assert code == 202
    status = await running.until(
        "/v1/destinations/members", lambda s: s["lastHandledRequest"] >= body["request"]
    )
    assert status["lastRun"]["trigger"] == "manual"
    assert (await running.post("/v1/destinations/nobody/sync", token="let-me-in"))[0] == 404


@pytest.mark.slow
async def test_files_added_edited_broken_and_deleted_are_picked_up(
    running: Daemon, daemon_world: World
) -> None:
    w = daemon_world
    await running.until(
        "/v1/destinations", lambda b: by_name(b)["members"]["lastRun"]["outcome"] == "success"
    )
    first_digest = by_name((await running.get("/v1/destinations"))[1])["members"]["digest"]

    w.destination({"vip": w.csv("vip", people(0, 30))}, name="members", displayName="Edited")
    body = await running.until(
        "/v1/destinations", lambda b: by_name(b)["members"]["digest"] != first_digest
    )
    edited_digest = by_name(body)["members"]["digest"]

    (w.destinations / "members.yaml").write_text("spec: [broken\n")
    body = await running.until("/v1/destinations", lambda b: by_name(b)["members"]["fileProblems"])
    assert by_name(body)["members"]["digest"] == edited_digest  # last good version runs on
    assert [entry["file"] for entry in body["invalidFiles"]] == ["members.yaml"]
    assert by_name(body)["members"]["fileProblems"][0]["line"] is not None

    (w.destinations / "members.yaml").unlink()
    await running.until("/v1/destinations", lambda b: "members" not in by_name(b))
    assert w.members() == emails(people(0, 30))  # stopping never touches SendGrid


@pytest.mark.slow
async def test_sync_command_asks_the_running_daemon(running: Daemon, daemon_world: World) -> None:
    await running.until("/v1/destinations/members", lambda s: s["lastRun"]["outcome"])
    env = {**running.env, "SYNCD_ADMIN_TOKEN": "let-me-in"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        "sync",
        "members",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, out.decode() + err.decode()
    assert "asked it to sync now" in err.decode()
    assert "members: success" in out.decode()
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "syncd", "sync", "members", "--output", "json"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, out.decode() + err.decode()
    assert json.loads(out)["lastRun"]["outcome"] == "success"  # stdout: the status alone


async def test_run_once_exits_by_outcome(daemon_world: World) -> None:
    w = daemon_world
    w.destination({"vip": w.csv("vip", people(0, 5))}, name="good")
    ok = Daemon(env_for(w), "run", "--once")
    assert await _exit_code(ok) == 0
    w.destination(
        {"vip": w.csv("vip", people(0, 5))},
        name="bad",
        sendgrid={
            "apiKey": {"env": "SENDGRID_API_KEY_MISSING"},
            "listId": "33333333-3333-4333-8333-333333333333",
        },
    )
    assert await _exit_code(Daemon(env_for(w), "run", "--once")) == 1


async def _exit_code(daemon: Daemon) -> int:
    handle = daemon.log.open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "syncd", *daemon.args, env=daemon.env, stdout=handle, stderr=handle
    )
    handle.close()
    return await asyncio.wait_for(process.wait(), 60)


AS_PID_1 = (
    "import os, sys; assert os.getpid() == 1; from syncd.cli import main; sys.exit(main(['run']))"
)


@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root to unshare")
async def test_as_pid_1_sigterm_still_stops_it_gracefully(daemon_world: World) -> None:
    import shutil

    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed")
    w = daemon_world
    w.destination({"vip": w.csv("vip", people(0, 5))}, name="members")
    daemon = Daemon(env_for(w))
    handle = daemon.log.open("wb")
    process = await asyncio.create_subprocess_exec(
        "unshare",
        "--pid",
        "--fork",
        "--kill-child",
        sys.executable,
        "-c",
        AS_PID_1,
        env=daemon.env,
        stdout=handle,
        stderr=handle,
    )
    handle.close()
    daemon.process = process
    pid_1 = None
    try:
        await daemon.until("/readyz", lambda _: True, within=20)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        (pid_1,) = (int(child) for child in children)
        # Seen from its own namespace this process is PID 1, which ignores every signal it
        # has no handler for: only syncd's own SIGTERM handler can make this stop.
        os.kill(pid_1, signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0, daemon.output()
        assert '"event": "daemon.stopped"' in daemon.output()
    finally:
        if process.returncode is None:  # never leave a namespace's PID 1 behind
            if pid_1 is not None:
                os.kill(pid_1, signal.SIGKILL)
            await daemon.kill()
