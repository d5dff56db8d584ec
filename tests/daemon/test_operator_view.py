"""What an operator sees of a running daemon: a run followed as it goes, a status that
survives a restart, and a CLI that finds its daemon through the ledger's lock file."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from syncd.emulator import Emulator, EmulatorConfig
from tests.daemon.process import Daemon
from tests.daemon.test_daemon import env_for
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.world import World, people

TOKEN = "operator-view-token"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return strict_emulator_config(job_delay=2.0)


@pytest.fixture
def daemon_world(tmp_path: Path, emulator: Emulator) -> World:
    built = World(tmp_path, emulator)
    built.ledger.close()
    return built


async def cli(daemon: Daemon, *args: str, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        *args,
        env={**daemon.env, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def metric(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    match = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


@pytest.mark.slow
async def test_a_sync_asked_of_the_daemon_is_followed_until_it_ends(daemon_world: World) -> None:
    w = daemon_world
    rows = people(0, 3000)
    w.destination({"vip": w.csv("vip", rows)}, name="members", schedule={"interval": "1h"})
    daemon = Daemon(env_for(w, SYNCD_ADMIN_TOKEN=TOKEN))
    await daemon.start()
    try:
        await daemon.until("/v1/destinations/members", lambda s: s["state"] == "ready", 60)
        for row in rows:
            row["FirstName"] += "x"
        w.csv("vip", rows)
        syncing = asyncio.create_task(cli(daemon, "sync", "members"))
        seen: list[dict[str, Any]] = []
        ratios: list[float | None] = []
        while not syncing.done():
            _, status = await daemon.get("/v1/destinations/members")
            if status["progress"]:
                seen.append(status["progress"])
                ratios.append(
                    metric(
                        (await daemon.get("/metrics"))[1],
                        "syncd_run_progress_ratio",
                        destination="members",
                    )
                )
            await asyncio.sleep(0.2)
        code, out, err = syncing.result()
        _, after = await daemon.get("/metrics")
    finally:
        await daemon.stop()
    assert code == 0, out + err
    assert "members: success" in out
    assert "waiting for SendGrid's jobs" in err or "sending" in err  # followed on stderr
    phases = {p["phase"] for p in seen}
    assert "waitingForJobs" in phases
    waiting = next(p for p in seen if p["phase"] == "waitingForJobs")
    assert (waiting["toSend"], waiting["sent"], waiting["jobsOpen"]) == (3000, 3000, 1)
    assert waiting["ratio"] == 1.0
    assert any(r is not None for r in ratios)
    assert metric(after, "syncd_run_progress_ratio", destination="members") is None


@pytest.mark.slow
async def test_after_a_restart_the_status_and_gauges_are_as_before_any_run(
    daemon_world: World,
) -> None:
    w = daemon_world
    w.destination({"vip": w.csv("vip", people(0, 20))}, name="members", schedule={"interval": "1h"})
    w.destination(
        {"vip": w.csv("vip2", people(20, 30))},
        name="stuck",
        sendgrid={
            "apiKey": {"env": "SENDGRID_API_KEY"},
            "listId": "0badc0de-0000-4000-8000-000000000000",
        },
        schedule={"interval": "1h"},
    )
    first = Daemon(env_for(w))
    await first.start()
    try:
        before = await first.until(
            "/v1/destinations",
            lambda b: (
                {d["name"]: d["state"] for d in b["destinations"]}
                == {"members": "ready", "stuck": "stalled"}
            ),
            60,
        )
        _, metrics_before = await first.get("/metrics")
    finally:
        assert await first.stop() == 0
    second = Daemon(env_for(w))
    second.port, second.url, second.env = first.port, first.url, first.env
    await second.start()
    try:
        _, after = await second.get("/v1/destinations")
        _, metrics_after = await second.get("/metrics")
    finally:
        await second.stop()

    def kept(document: dict[str, Any]) -> dict[str, Any]:
        return {
            d["name"]: (
                d["state"],
                d["lastSuccessAt"],
                d["lastRun"],
                d["consecutiveFailures"],
                [
                    (c["type"], c["status"], c["lastTransitionTime"])
                    for c in d["conditions"]
                    if c["type"] != "FileValid"
                ],
            )
            for d in document["destinations"]
        }

    for name, was in kept(before).items():
        assert kept(after)[name] == was, name
    reads = {d["name"]: d["lastRun"]["read"] for d in after["destinations"]}
    assert reads == {"members": "staged", "stuck": None}  # kept across the restart
    for name, labels in [
        ("syncd_last_success_timestamp_seconds", {"destination": "members"}),
        ("syncd_last_attempt_timestamp_seconds", {"destination": "stuck"}),
        ("syncd_segment_profiles", {"destination": "members"}),
        ("syncd_destinations", {"state": "ready"}),
        ("syncd_destinations", {"state": "stalled"}),
    ]:
        assert metric(metrics_after, name, **labels) == metric(metrics_before, name, **labels), name
    assert metric(metrics_after, "syncd_destinations", state="ready") == 1


@pytest.mark.slow
async def test_a_sync_asked_of_the_daemon_reports_its_own_run_not_the_next(
    daemon_world: World,
) -> None:
    # The file changed while the asked run was in flight: a run of the new file started
    # as soon as it ended, and the CLI printed that one (still running: outcome None).
    w = daemon_world
    rows = people(0, 5)
    w.destination({"vip": w.csv("vip", rows)}, name="members")
    daemon = Daemon(env_for(w, SYNCD_ADMIN_TOKEN=TOKEN))
    await daemon.start()
    try:
        await daemon.until("/v1/destinations/members", lambda s: s["state"] == "ready", 60)
        w.csv("vip", people(0, 8))  # the asked run has a job to wait for (2 s)
        asked = asyncio.create_task(cli(daemon, "sync", "members", SYNCD_ADMIN_TOKEN=TOKEN))
        # Past its read (a file rewritten in place while read fails the run): at its job.
        await daemon.until(
            "/v1/destinations/members",
            lambda s: (s["progress"] or {}).get("phase") in ("sending", "waitingForJobs"),
            30,
        )
        w.destination({"vip": w.csv("vip", people(0, 9))}, name="members", displayName="VIP")
        code, out, err = await asked
        history = await daemon.until(
            "/v1/destinations/members/runs", lambda h: len(h["runs"]) >= 3, 30
        )
    finally:
        await daemon.stop()
    assert code == 0, out + err
    manual = next(run for run in history["runs"] if run["trigger"] == "manual")
    assert out.startswith(f"members: success · upserted {manual['counts']['upserted']}"), out


class TestASyncAskedWhileARunIsUnderWay:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        # The first run's job stays pending until the test settles it: the run is under way
        # for as long as the test needs, however slowly the CLI starts on a loaded machine
        # (a 2 s delay let that run, and the one queued after it, end first).
        return strict_emulator_config(job_delay=3600.0)

    @pytest.mark.slow
    async def test_it_says_it_waits_for_it(self, daemon_world: World) -> None:
        # The daemon's first run (schedule) holds a job when the sync is asked: its progress
        # showed as if it were the asked run, whose report (nothing to send) then
        # contradicted what was shown.
        w = daemon_world
        w.destination({"vip": w.csv("vip", people(0, 5))}, name="members")
        daemon = Daemon(env_for(w, SYNCD_ADMIN_TOKEN=TOKEN))
        await daemon.start()
        try:
            first = await daemon.until(
                "/v1/destinations/members", lambda s: (s["progress"] or {}).get("runId"), 30
            )
            code, answer = await daemon.post("/v1/destinations/members/sync", token=TOKEN)
            assert (code, answer["inFlight"]) == (202, {"trigger": "schedule", "runId": 1}), first
            asking = await spawn_cli(daemon, "sync", "members", SYNCD_ADMIN_TOKEN=TOKEN)
            assert asking.stderr is not None
            told = ""
            async with asyncio.timeout(60):  # once the CLI's answer is in, run #1 may end
                while "under way" not in told and (line := await asking.stderr.readline()):
                    told += line.decode()
            settling = asyncio.create_task(settle_until_done(w.emulator, asking))
            out, err = await asyncio.wait_for(asking.communicate(), 60)
            await settling
            idle = await daemon.post("/v1/destinations/members/sync", token=TOKEN)
        finally:
            await daemon.stop()
        assert asking.returncode == 0, out.decode() + told + err.decode()
        assert told.endswith(
            "members: a schedule run (#1) is under way; the sync asked for starts once it ends\n"
        ), told
        assert idle[1]["inFlight"] is None or idle[1]["inFlight"]["trigger"] == "manual"


async def spawn_cli(daemon: Daemon, *args: str, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        *args,
        env={**daemon.env, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def settle_until_done(emulator: Emulator, process: asyncio.subprocess.Process) -> None:
    """Applies the emulator's jobs as they come (their delay is the test's hold) until the
    process ends."""
    while process.returncode is None:
        await emulator.settle()
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_a_sync_of_a_destination_whose_file_never_loaded_names_the_file(
    daemon_world: World,
) -> None:
    # A file invalid since it was added: the daemon knows no destination by its name, and
    # the CLI said only that, where `syncd status` lists the file and its problems.
    w = daemon_world
    w.destination({"vip": w.csv("vip", people(0, 5))}, name="members")
    (w.destinations / "big.yaml").write_text("spec: [broken\n")
    daemon = Daemon(env_for(w, SYNCD_ADMIN_TOKEN=TOKEN))
    await daemon.start()
    try:
        await daemon.until("/v1/destinations", lambda d: d["invalidFiles"], 30)
        code, out, err = await cli(daemon, "sync", "big", SYNCD_ADMIN_TOKEN=TOKEN)
        unknown = await cli(daemon, "sync", "nope", SYNCD_ADMIN_TOKEN=TOKEN)
    finally:
        await daemon.stop()
    assert code == 1, out + err
    assert "the daemon knows no destination named 'big'; it could not load big.yaml" in err
    # The error comes first: `nope: the daemon ... asking it to sync now…` preceded it.
    code, out, err = unknown
    assert code == 1, out + err
    assert err.startswith("syncd sync: the daemon knows no destination named 'nope'"), err


class TestRemovalsWaitingOnSearch:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        return strict_emulator_config(search_lag=600.0)  # search shows nobody yet

    @pytest.mark.slow
    async def test_a_sync_asked_of_the_daemon_says_what_waits_on_search(
        self, daemon_world: World
    ) -> None:
        # The daemon's counts are camelCase: the CLI looked them up snake_case and printed
        # nothing of the removals left pending.
        w = daemon_world
        w.destination({"vip": w.csv("vip", people(0, 20))}, name="members")
        daemon = Daemon(env_for(w, SYNCD_ADMIN_TOKEN=TOKEN))
        await daemon.start()
        try:
            await daemon.until("/v1/destinations/members", lambda s: s["state"] == "ready", 60)
            w.csv("vip", people(0, 18))
            code, out, err = await cli(daemon, "sync", "members", SYNCD_ADMIN_TOKEN=TOKEN)
        finally:
            await daemon.stop()
        assert code == 0, out + err
        assert "  2 removals wait on SendGrid's search to show them; the next run looks" in out


@pytest.mark.slow
async def test_the_cli_finds_its_daemon_through_the_lock_file(daemon_world: World) -> None:
    w = daemon_world
    w.destination({"vip": w.csv("vip", people(0, 5))}, name="members")
    daemon = Daemon(env_for(w))
    await daemon.start()
    try:
        await daemon.until("/v1/destinations/members", lambda s: s["state"] == "ready", 60)
        elsewhere = {"SYNCD_LISTEN": "127.0.0.1:9"}  # nothing there: the lock file says where
        code, out, err = await cli(daemon, "status", "members", "--output", "json", **elsewhere)
        history = await cli(daemon, "history", "members", "--output", "json", **elsewhere)
        (w.destinations / "members.yaml").unlink()  # its runs stay in the ledger
        await daemon.until("/v1/destinations", lambda s: not s["destinations"], 30)
        after_delete = await cli(daemon, "history", "members", "--output", "json")
        never = await cli(daemon, "history", "nobody", "--output", "json")
    finally:
        await daemon.stop()
    assert code == 0, err
    assert json.loads(out)["nextRunAt"] is not None  # only the daemon knows the next run
    assert history[0] == 0
    (run,) = json.loads(history[1])["runs"]
    assert (run["outcome"], run["read"]) == ("success", "staged")  # a first read is staged
    assert after_delete[0] == 0, after_delete
    assert json.loads(after_delete[1])["runs"] == json.loads(history[1])["runs"]
    assert never[0] == 1
