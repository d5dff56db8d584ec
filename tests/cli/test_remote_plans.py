"""A CI job with no ledger and no sources asks the deployed daemon for the plan of a changed
file: `syncd plan --remote URL --file PATH`, real processes, the strict emulator over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from syncd.emulator import Emulator
from tests.daemon.process import Daemon
from tests.fixtures_emulator import TEST_API_KEY
from tests.reconciling.world import World, people

TOKEN = "ci-token-for-plans"


@pytest.fixture
async def deployed(tmp_path: Path, emulator: Emulator) -> AsyncIterator[tuple[World, Daemon]]:
    root = tmp_path / "deployed"
    root.mkdir()
    built = World(root, emulator)
    built.ledger.close()
    built.destination({"vip": built.csv("vip", people(0, 20))})
    daemon = Daemon(
        {
            "SENDGRID_API_KEY": TEST_API_KEY,
            "SYNCD_SENDGRID_BASE_URL": emulator.url,
            "SYNCD_DESTINATIONS": str(built.destinations),
            "SYNCD_STATE": str(root / "daemon-state.db"),
            "SYNCD_LOG_FORMAT": "json",
            "SYNCD_ADMIN_TOKEN": TOKEN,
            "SYNCD_JOB_POLL_MAX_INTERVAL": "0.2",
        }
    )
    await daemon.start()
    await daemon.until(
        "/v1/destinations/members", lambda s: (s.get("lastRun") or {}).get("outcome") == "success"
    )
    yield built, daemon
    assert await daemon.stop() == 0, daemon.output()


async def ci(checkout: Path, *args: str, token: str | None = TOKEN) -> tuple[int, str, str]:
    """`syncd ARGS` in a CI job: the checkout only, no SendGrid key, no ledger."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCD_", "SENDGRID_"))}
    env["SYNCD_STATE"] = str(checkout / "no-ledger-here.db")
    if token:
        env["SYNCD_ADMIN_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        *args,
        cwd=checkout,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_a_ci_job_gets_the_plan_the_daemon_computed_and_nothing_is_applied(
    tmp_path: Path, deployed: tuple[World, Daemon]
) -> None:
    w, daemon = deployed
    checkout = tmp_path / "checkout"
    (checkout / "destinations.d").mkdir(parents=True)
    document = yaml.safe_load((w.destinations / "members.yaml").read_text())
    document["spec"]["mapping"]["first_name"] = "LastName"  # a pull request's mistake
    (checkout / "destinations.d" / "members.yaml").write_text(yaml.safe_dump(document))
    lines = yaml.safe_dump(document).splitlines()
    lines.insert(3, "  bogus: 1")  # under metadata
    (checkout / "destinations.d" / "broken.yaml").write_text("\n".join(lines) + "\n")
    writes = len(w.emulator.write_requests())
    url = daemon.url

    code, out, err = await ci(
        checkout, "plan", "--remote", url, "--file", "destinations.d/members.yaml",
        "--output", "json",
    )  # fmt: skip
    assert code == 2, out + err
    (entry,) = json.loads(out)["destinations"]
    assert (entry["name"], entry["file"]) == ("members", "destinations.d/members.yaml")
    assert (entry["result"], entry["firstExport"]) == ("changes", False)
    assert (entry["counts"]["changed"], entry["counts"]["unchanged"]) == (20, 0)
    assert entry["examples"]["update"][0]["changes"] == [
        {"field": "first_name", "from": "First0", "to": "Last0"}
    ]

    code, _, err = await ci(
        checkout, "plan", "--remote", url, "--file", "destinations.d/members.yaml", token=None
    )
    assert code == 1
    assert "answered 401" in err

    code, out, err = await ci(
        checkout, "plan", "--remote", url, "--file", "destinations.d/broken.yaml"
    )
    assert code == 1, out + err
    assert "broken.yaml: plan: invalid file" in out
    assert "destinations.d/broken.yaml:4:3: metadata.bogus: unknown key" in out

    (checkout / "destinations.d" / "newsletter.yaml").write_text(yaml.safe_dump(document))
    code, out, err = await ci(
        checkout, "plan", "--remote", url, "--file", "destinations.d/newsletter.yaml",
        "--removed", "destinations.d/members.yaml", "--output", "json",
    )  # fmt: skip
    assert code == 2, out + err  # a rename: planned as members, not a second owner
    (entry,) = json.loads(out)["destinations"]
    assert (entry["name"], entry["file"]) == ("members", "destinations.d/newsletter.yaml")

    assert len(w.emulator.write_requests()) == writes
    assert not (checkout / "no-ledger-here.db").exists()
    assert sorted(p.name for p in w.destinations.iterdir()) == ["members.yaml"]
    status, listed = await daemon.get("/v1/destinations")
    assert status == 200
    assert [d["name"] for d in listed["destinations"]] == ["members"]


@pytest.mark.slow
async def test_on_the_daemons_host_the_host_token_is_used_and_never_sent_elsewhere(
    tmp_path: Path, emulator: Emulator
) -> None:
    # A daemon with no SYNCD_ADMIN_TOKEN: its host's CLI (same SYNCD_STATE) uses the host
    # token the daemon wrote beside the ledger, but only for that daemon's own address.
    root = tmp_path / "host"
    root.mkdir()
    w = World(root, emulator)
    w.ledger.close()
    w.destination({"vip": w.csv("vip", people(0, 5))})
    state = str(root / "daemon-state.db")
    env = {
        "SENDGRID_API_KEY": TEST_API_KEY,
        "SYNCD_SENDGRID_BASE_URL": emulator.url,
        "SYNCD_DESTINATIONS": str(w.destinations),
        "SYNCD_STATE": state,
        "SYNCD_LOG_FORMAT": "json",
    }
    daemon = Daemon(env)
    await daemon.start()
    try:
        candidate = str(w.destinations / "members.yaml")
        here = {**os.environ, **env}
        here.pop("SYNCD_ADMIN_TOKEN", None)

        async def plan(url: str) -> tuple[int, str]:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "syncd", "plan", "--remote", url, "--file", candidate,
                env=here, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await process.communicate()
            assert process.returncode is not None
            return process.returncode, out.decode() + err.decode()

        code, said = await plan(daemon.url)
        assert code in (0, 2), said  # planned (a first export, or nothing to do)
        code, said = await plan(daemon.url.replace("127.0.0.1", "localhost"))
        assert code == 1
        assert "answered 403" in said  # another address: no token was sent
    finally:
        assert await daemon.stop() == 0, daemon.output()
