"""`syncd audit NAME` as a new user runs it: a real process, the emulator over HTTP."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from syncd.emulator import Emulator
from syncd.emulator.faults import FaultRule
from syncd.shapes import json_schema
from tests.audit.conftest import AuditWorld, add_to_list, set_first_name, unlist
from tests.commands import syncd as run_syncd
from tests.fixtures_emulator import TEST_API_KEY
from tests.reconciling.world import emails, people


async def syncd(w: AuditWorld, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "SENDGRID_API_KEY": TEST_API_KEY,
        "SYNCD_SENDGRID_BASE_URL": w.emulator.url,
        "SYNCD_DESTINATIONS": str(w.destinations),
        "SYNCD_STATE": str(w.root / "cli-state.db"),
        "SYNCD_LOG_LEVEL": "warning",
        "SYNCD_JOB_POLL_MAX_INTERVAL": "0.2",
    }
    done = await run_syncd(*args, env=env, within=120)
    return done.code, done.out, done.err


def counted(out: str) -> dict[str, int]:
    return {
        kind: int(match.group(1).replace(",", ""))
        for kind in ("missing", "extra", "stale", "unacknowledged")
        if (match := re.search(rf"^\s+{kind}\s+([\d,]+)", out, re.MULTILINE))
    }


@pytest.fixture
def cli_world(tmp_path: Path, emulator: Emulator) -> AuditWorld:
    built = AuditWorld(tmp_path, emulator)
    built.ledger.close()
    return built


async def test_exit_0_then_2_then_heal_then_prune_then_0(cli_world: AuditWorld) -> None:
    w = cli_world
    w.destination({"vip": w.csv("vip", people(0, 30))})
    assert (await syncd(w, "sync", "members"))[0] == 0

    code, out, err = await syncd(w, "audit", "members")
    assert code == 0, out + err
    assert counted(out) == {"missing": 0, "extra": 0, "stale": 0, "unacknowledged": 0}
    assert "no drift" in out

    strangers = [f"stranger{n}@elsewhere.com" for n in range(5)]
    await w.hand_edits(
        unlist(*[f"person.{n}@example.com" for n in range(7)]),
        add_to_list(*strangers),
        set_first_name("Edited", *[f"person.{n}@example.com" for n in range(20, 23)]),
    )
    code, out, err = await syncd(w, "audit", "members")
    assert code == 2, out + err
    assert counted(out) == {"missing": 7, "extra": 5, "stale": 3, "unacknowledged": 0}
    assert "stranger0@elsewhere.com" not in out  # masked unless asked, as the docs show it
    assert re.search(r"^\s+extra\s+5\s+s\*\*\*@elsewhere\.com, s\*\*\*@", out, re.MULTILINE), out
    code, out, _ = await syncd(w, "audit", "members", "--show-emails", "--output", "json")
    assert code == 2
    report = json.loads(out)
    assert report["examples"]["extra"] == sorted(strangers)

    code, out, err = await syncd(w, "audit", "members", "--heal")
    assert code == 2, out + err
    assert "10 sent again" in out
    assert w.members() == emails(people(0, 30)) | set(strangers)

    code, out, err = await syncd(w, "audit", "members", "--heal", "--prune")
    assert code == 2, out + err
    assert counted(out)["extra"] == 5
    assert w.members() == emails(people(0, 30))

    code, out, err = await syncd(w, "audit", "members")
    assert code == 0, out + err


async def test_the_rejected_rows_stay_listed_after_an_audit(cli_world: AuditWorld) -> None:
    # The audit is kept among the runs: `--rejections` showed its (none) instead of the
    # last sync's.
    w = cli_world
    rows = people(0, 5)
    rows[3]["EmailAddress"] = "nobody-at-all"
    w.destination({"vip": w.csv("vip", rows)})
    assert (await syncd(w, "sync", "members"))[0] == 0
    assert (await syncd(w, "audit", "members"))[0] == 0

    code, out, err = await syncd(w, "status", "members", "--rejections")

    assert code == 0, err
    assert out.startswith("vip row 5: email is not a valid address"), out
    assert "1 rejected row(s) in run #1 (manual)" in err, err
    await w.hand_edits(unlist("person.0@example.com"))  # a heal: a run, trigger `audit`
    assert (await syncd(w, "audit", "members", "--heal"))[0] == 2
    code, out, err = await syncd(w, "status", "members", "--rejections")
    assert out.startswith("vip row 5: email is not a valid address"), out
    assert "1 rejected row(s) in run #4 (audit)" in err, err
    code, out, err = await syncd(w, "status", "members", "--rejections", "--output", "json")
    assert code == 0, err
    document = json.loads(out)  # the published schema (it had none)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator(json_schema("rejections")).validate(document)
    assert (document["run"], len(document["rejections"])) == (4, 1)


async def test_an_unknown_destination_or_bad_option_exits_1(cli_world: AuditWorld) -> None:
    w = cli_world
    w.destination({"vip": w.csv("vip", people(0, 3))})
    code, _, err = await syncd(w, "audit", "nobody")
    assert code == 1
    assert "no valid destination named 'nobody'" in err
    code, _, _ = await syncd(w, "audit", "members", "--no-such-option")
    assert code == 1  # not 2: 2 means drift


async def test_a_failed_audit_exits_1_with_the_reason(cli_world: AuditWorld) -> None:
    w = cli_world
    w.destination({"vip": w.csv("vip", people(0, 3))})
    w.emulator.services.faults.add(
        FaultRule(kind="status", template="POST /v3/marketing/contacts/exports", status=503)
    )
    code, out, _ = await syncd(w, "audit", "members", "--output", "json")
    assert code == 1
    assert json.loads(out)["outcome"] == "temporary"
