"""`syncd plan`, `sync` and `status` as a user runs them: real processes, the emulator over HTTP."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from syncd.emulator import Emulator
from tests.commands import syncd as run_syncd
from tests.fixtures_emulator import TEST_API_KEY
from tests.reconciling.world import World, people


async def syncd(world: World, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "SENDGRID_API_KEY": TEST_API_KEY,
        "SYNCD_SENDGRID_BASE_URL": world.emulator.url,
        "SYNCD_DESTINATIONS": str(world.destinations),
        "SYNCD_STATE": str(world.root / "cli-state.db"),
        "SYNCD_LOG_FORMAT": "json",
    }
    done = await run_syncd(*args, env=env, within=120)
    return done.code, done.out, done.err


@pytest.fixture
async def cli_world(tmp_path: Path, emulator: Emulator) -> World:
    built = World(tmp_path, emulator)
    built.ledger.close()
    return built


@pytest.mark.slow
async def test_plan_then_sync_then_plan_again(cli_world: World) -> None:
    w = cli_world
    rows = people(0, 20)
    rows[3]["EmailAddress"] = "broken-address"
    w.destination({"vip": w.csv("vip", rows)})

    code, out, _ = await syncd(w, "plan", "members")
    assert code == 2, out
    assert re.search(r"to add\s+19", out)
    assert "vip row 5: email is not a valid address: no @" in out
    assert w.emulator.write_requests() == []

    code, out, err = await syncd(w, "sync", "members")
    assert code == 0, out + err
    assert "members: success" in out
    assert "upserted 19" in out

    code, out, _ = await syncd(w, "plan", "members")
    assert code == 0, out
    assert re.search(r"unchanged\s+19", out)


async def test_a_failing_sync_exits_1_with_the_reason(cli_world: World) -> None:
    w = cli_world
    w.destination({"vip": w.csv("vip", people(0, 5))}, limits={"maxProfiles": 2})
    code, out, _ = await syncd(w, "sync", "members")
    assert code == 1
    assert "members: guard" in out
    assert "spec.limits.maxProfiles" in out


async def test_an_unknown_destination_names_the_valid_ones(cli_world: World) -> None:
    w = cli_world
    w.destination({"vip": w.csv("vip", people(0, 2))})
    code, _, err = await syncd(w, "sync", "nope")
    assert code == 1
    assert "no valid destination named 'nope'" in err
    assert "valid: members" in err


@pytest.mark.slow
async def test_status_shows_the_last_runs(cli_world: World) -> None:
    w = cli_world
    w.destination({"vip": w.csv("vip", people(0, 3))})
    code, out, err = await syncd(w, "status")  # nothing has run: no ledger file yet
    assert code == 0
    assert re.search(r"members\s+pending\s", out)
    assert "cli-state.db yet: no run has been recorded there" in err  # a mistyped path?
    await syncd(w, "sync", "members")
    code, out, err = await syncd(w, "status")
    assert code == 0
    assert re.search(r"members\s+ready\s+\S+ \S+", out)
    assert "no ledger" not in err
    code, out, _ = await syncd(w, "status", "members", "--output", "json")
    assert code == 0
    status = json.loads(out)
    assert (status["state"], status["lastRun"]["outcome"]) == ("ready", "success")
    code, out, _ = await syncd(w, "history", "members", "--output", "json")
    assert code == 0
    assert [run["trigger"] for run in json.loads(out)["runs"]] == ["manual"]


@pytest.mark.slow
async def test_status_of_an_unknown_destination_exits_1_and_says_so(cli_world: World) -> None:
    w = cli_world
    w.destination({"vip": w.csv("vip", people(0, 2))})
    code, out, err = await syncd(w, "status", "nope")
    assert (code, out) == (1, "")
    assert "no destination named 'nope' (known: members)" in err
    code, out, _ = await syncd(w, "status", "nope", "--output", "json")
    assert code == 1
    assert json.loads(out)["error"]["code"] == "unknownDestination"
    code, _, err = await syncd(w, "history", "nope")
    assert code == 1
    assert err.startswith("syncd history: no destination named 'nope'")
    for wrong in ("-1", "0", "1001", "many"):
        code, _, err = await syncd(w, "history", "members", "--limit", wrong)
        assert code == 2, err  # a bad command line, refused before anything is read
        assert "--limit" in err
    for output in ("text", "json"):  # a bad command line too: exit 2, one line, no document
        code, out, err = await syncd(w, "status", "--rejections", "--output", output)
        assert (code, out, err) == (2, "", "syncd status: --rejections needs a destination NAME\n")


@pytest.mark.slow
async def test_status_does_not_call_a_destination_with_a_broken_file_a_success(
    cli_world: World,
) -> None:
    w = cli_world
    w.destination({"vip": w.csv("vip", people(0, 3))})
    await syncd(w, "sync", "members")
    (w.destinations / "members.yaml").write_text("spec: [broken\n")
    code, out, _ = await syncd(w, "status")
    assert code == 0
    assert "success" not in out
    assert "invalid file members.yaml" in out or "file invalid" in out
    code, out, _ = await syncd(w, "status", "--output", "json")
    document = json.loads(out)
    assert document["invalidFiles"][0]["file"] == "members.yaml"
    assert document["invalidFiles"][0]["problems"][0]["line"] is not None


@pytest.mark.slow
async def test_no_key_and_no_address_reaches_the_output(cli_world: World) -> None:
    w = cli_world
    rows = people(0, 10)
    rows[2]["EmailAddress"] = "someone@example"
    rows[4]["FirstName"] = "y" * 80
    w.destination({"vip": w.csv("vip", rows)})
    outputs = []
    for args in (
        ("plan", "members"),
        ("plan", "members", "--output", "json"),
        ("plan", "members", "--output", "markdown"),
        ("sync", "members"),
        ("status", "members"),
        ("status", "members", "--rejections"),
    ):
        _, out, err = await syncd(w, *args)
        outputs.append(out + err)
    everything = "\n".join(outputs)
    assert TEST_API_KEY not in everything
    # Plans show addresses masked to their first character (p***@example.com), no more.
    shown = re.findall(r"(\S*)@example\.com", everything.lower())
    assert shown
    assert all(local.endswith("p***") for local in shown), shown
    assert "someone@example" not in everything


@pytest.mark.slow
async def test_status_without_a_daemon_drops_a_destination_whose_file_is_gone(
    cli_world: World,
) -> None:
    # As a daemon has it: it was shown "file invalid, its last good version runs" though
    # nothing runs it. Its runs stay in the history.
    w = cli_world
    w.destination({"vip": w.csv("vip", people(0, 2))})
    code, out, err = await syncd(w, "sync", "members")
    assert code == 0, out + err
    (w.destinations / "members.yaml").unlink()
    code, out, err = await syncd(w, "status", "--output", "json")
    assert code == 0, out + err
    assert json.loads(out)["destinations"] == []
    (w.destinations / "broken.yaml").write_text("spec: [\n")  # maybe it: still shown
    code, out, _ = await syncd(w, "status", "--output", "json")
    (shown,) = json.loads(out)["destinations"]
    assert shown["name"] == "members"
    assert "(invalid: broken.yaml)" in shown["fileProblems"][0]["message"]
    code, out, _ = await syncd(w, "history", "members")
    assert code == 0
    assert "manual" in out
