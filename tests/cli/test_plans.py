"""`syncd plan` as a pull-request check: exit codes that hold, guards named, examples shown.

Real processes against the strict emulator over HTTP; the ledger is the one the World's
syncs filled (the plan opens it read-only beside the test's own writer).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from syncd.cli import main
from syncd.cli.plan_output import plan_text
from syncd.emulator import Emulator, EmulatorConfig, ListSeed
from syncd.shapes import Counts, PlanDocument, PlanEntry, json_schema
from tests.commands import syncd as run_syncd
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID, strict_emulator_config
from tests.reconciling.world import World, people, world

LISTS = {
    "members": TEST_LIST_ID,
    "vip": "0c7f3a9e-2b4d-4c8e-9a52-3e6f0b1d2c41",
    "newsletter": "1d8e4b0f-3c5e-4d9f-8b63-4f7a1c2e3d52",
}


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return strict_emulator_config(
        lists=[ListSeed(id=list_id, name=name) for name, list_id in LISTS.items()]
    )


@pytest.fixture
async def plan_world(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    monkeypatch.setenv("SENDGRID_API_KEY", TEST_API_KEY)
    async with world(tmp_path, emulator) as built:
        yield built


def destination(w: World, name: str, rows: list[dict[str, str]], **spec: Any) -> None:
    sendgrid = {"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": LISTS[name]}
    w.destination({name: w.csv(name, rows)}, name=name, sendgrid=sendgrid, **spec)


async def syncd(w: World, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "SENDGRID_API_KEY": TEST_API_KEY,
        "SYNCD_SENDGRID_BASE_URL": w.emulator.url,
        "SYNCD_DESTINATIONS": str(w.destinations),
        "SYNCD_STATE": w.settings.state,
        "SYNCD_LOG_FORMAT": "json",
    }
    done = await run_syncd(*args, env=env, within=120)
    return done.code, done.out, done.err


async def test_a_segment_shrinking_by_40_percent_fails_the_plan_naming_the_guard(
    plan_world: World,
) -> None:
    w = plan_world
    destination(w, "members", people(0, 10))
    assert (await w.sync("members")).outcome == "success"
    destination(w, "members", people(0, 6))
    writes_before = len(w.emulator.write_requests())

    code, out, _ = await syncd(w, "plan", "members")
    assert code == 1, out
    assert "blocked by a guard" in out
    assert "guard removalFraction: 4 of 10 contacts (40%) would leave the list" in out
    assert "to pass: if this is intended, run `syncd sync members --allow-removals`" in out

    code, out, _ = await syncd(w, "plan", "members", "--allow-removals", "--output", "json")
    assert code == 2, out
    (entry,) = json.loads(out)["destinations"]
    assert (entry["result"], entry["guards"], entry["counts"]["gone"]) == ("changes", [], 4)
    assert [e["email"] for e in entry["examples"]["remove"]] == ["p***@example.com"] * 4
    assert len(w.emulator.write_requests()) == writes_before  # a plan writes nothing


async def test_an_empty_segment_is_named_as_its_own_guard(plan_world: World) -> None:
    w = plan_world
    destination(w, "members", people(0, 3))
    await w.sync("members")
    destination(w, "members", [])

    code, out, _ = await syncd(w, "plan", "members", "--output", "json")
    assert code == 1, out
    (entry,) = json.loads(out)["destinations"]
    assert entry["result"] == "blocked"
    assert [g["guard"] for g in entry["guards"]] == ["emptySegment"]
    how = entry["guards"][0]["howToPass"]
    assert "check the sources" in how
    assert "raise spec.limits" not in how  # no fraction lets an empty segment through


async def test_a_guard_that_stops_the_whole_sync_is_named_too(plan_world: World) -> None:
    w = plan_world
    destination(w, "members", people(0, 5), limits={"maxProfiles": 2})

    code, out, _ = await syncd(w, "plan", "members", "--output", "json")
    assert code == 1, out
    (entry,) = json.loads(out)["destinations"]
    assert entry["result"] == "blocked"
    assert entry["guards"][0]["guard"] == "maxProfiles"
    assert (
        entry["guards"][0]["howToPass"]
        == "raise the limit if 5+ is expected, or narrow the segments"
    )


@pytest.mark.slow
async def test_plan_all_in_markdown_has_a_section_per_destination_with_masked_examples(
    plan_world: World,
) -> None:
    w = plan_world
    destination(w, "members", people(0, 4))
    destination(w, "vip", people(10, 3))
    destination(w, "newsletter", people(20, 2))
    for name in ("members", "vip"):
        assert (await w.sync(name)).outcome == "success"
    changed = people(0, 4)
    changed[1]["FirstName"] = "Anna"
    destination(w, "members", [*changed, *people(30, 1)])  # one update, one add

    code, out, _ = await syncd(w, "plan", "--all", "--output", "markdown")
    assert code == 2, out
    assert out.startswith("## syncd plan\n")
    sections = out.split("\n### ")[1:]
    assert [s.split(":", 1)[0] for s in sections] == ["`members`", "`newsletter`", "`vip`"]
    members, newsletter, vip = sections
    assert "📝 changes" in members
    assert "**Add** (1)" in members
    assert "**Update** (1)" in members
    assert "`first_name`: `First1` → `Anna`" in members
    assert "`p***@example.com`" in members
    assert "first export" in newsletter
    assert "**Add** (2)" in newsletter
    assert "✅ no changes" in vip
    assert "| `members` | 📝 changes | 1 | 1 | 0 | 3 | 0 |" in out
    assert "person.1@example.com" not in out.lower()

    code, out, _ = await syncd(w, "plan", "--all", "--output", "markdown", "--show-emails")
    assert "`person.1@example.com`" in out


async def test_a_destination_moved_to_another_list_shows_the_list_as_the_change(
    plan_world: World,
) -> None:
    # Every contact is sent again to be put on the new list: an update whose only change
    # is the list, which the example must show (it showed none).
    w = plan_world
    destination(w, "members", people(0, 3))
    assert (await w.sync("members")).outcome == "success"
    sendgrid = {"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": LISTS["vip"]}
    w.destination({"members": w.csv("members", people(0, 3))}, name="members", sendgrid=sendgrid)

    code, out, _ = await syncd(w, "plan", "members", "--output", "json")

    assert code == 2, out
    (entry,) = json.loads(out)["destinations"]
    updates = entry["examples"]["update"]
    assert len(updates) == 3, entry
    assert all(
        u["changes"] == [{"field": "listId", "from": None, "to": LISTS["vip"]}] for u in updates
    )
    code, out, _ = await syncd(w, "plan", "members")
    assert f"listId: → {LISTS['vip']}" in out, out


async def test_no_changes_exit_0_and_the_json_follows_its_published_schema(
    plan_world: World,
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    w = plan_world
    rows = people(0, 3)
    rows[1]["EmailAddress"] = "not-an-address"
    destination(w, "members", rows)
    await w.sync("members")

    code, out, _ = await syncd(w, "plan", "members", "--output", "json")
    assert code == 0, out
    document = json.loads(out)
    jsonschema.Draft202012Validator(json_schema("plan")).validate(document)
    (entry,) = document["destinations"]
    assert (entry["result"], entry["firstExport"]) == ("noChanges", False)
    assert entry["examples"]["rejected"] == [
        {
            "email": "***",  # masked: even an address without an @ is not shown
            "segment": "members",
            "row": 3,
            "changes": [],
            "reason": "email is not a valid address: no @",
        }
    ]


async def test_an_invalid_file_in_the_directory_fails_plan_all_with_its_problems(
    plan_world: World,
) -> None:
    w = plan_world
    destination(w, "members", people(0, 2))
    (w.destinations / "broken.yaml").write_text("apiVersion: syncd/v1\nkind: Nope\n")

    code, out, _ = await syncd(w, "plan", "--all", "--output", "json")
    assert code == 1, out
    entries = {e["name"]: e for e in json.loads(out)["destinations"]}
    assert entries["broken.yaml"]["result"] == "invalid"
    assert entries["broken.yaml"]["problems"][0]["line"] is not None
    assert entries["members"]["result"] == "changes"


async def test_a_plan_that_failed_shows_its_error_and_no_counts(plan_world: World) -> None:
    w = plan_world
    destination(w, "members", people(0, 2))
    destination(w, "vip", people(0, 3))
    (w.data / "members.csv").unlink()  # read first thing: nothing counted can be trusted

    code, out, _ = await syncd(w, "plan", "members")
    assert code == 1, out
    assert out.splitlines()[0] == "members: plan: error", out
    assert "members.csv does not exist" in out
    assert "to add" not in out, out
    assert "profiles" not in out, out
    code, out, _ = await syncd(w, "plan", "--all", "--output", "markdown")
    assert code == 1, out
    (row,) = [line for line in out.splitlines() if line.startswith("| `members`")]
    assert row.count("—") == 5, row
    assert "profiles from" not in out.split("### `members`")[1].split("###")[0], out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "name a destination"),
        (("members", "--all"), "not both"),
        (("--remote", "http://127.0.0.1:9"), "needs at least one --file"),
        (("--file", "x.yaml"), "--file and --removed go with --remote"),
        (("members", "--removed", "x.yaml"), "--file and --removed go with --remote"),
        (("--bogus",), "unrecognized arguments"),
        (("--remote", "ftp://x", "--file", "x.yaml"), "give the daemon's http:// or https://"),
        (("--remote", "http://x", "--file", "x.yaml", "--timeout", "-3"), "positive number"),
    ],
)
def test_a_plan_that_cannot_start_exits_1_never_2(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", *args]) == 1
    assert message in capsys.readouterr().err


def test_an_unknown_destination_with_json_output_prints_an_error_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "destinations.d").mkdir()
    monkeypatch.setenv("SYNCD_DESTINATIONS", str(tmp_path / "destinations.d"))
    monkeypatch.setenv("SYNCD_STATE", str(tmp_path / "state.db"))
    assert main(["plan", "nope", "--output", "json"]) == 1
    out, err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert error["code"] == "definitionError"
    assert "no valid destination named 'nope'" in error["message"]
    assert "no valid destination named 'nope'" in err


async def test_a_plan_stopped_by_max_profiles_shows_what_was_read_not_zeros(
    plan_world: World,
) -> None:
    # It showed `profiles 0 from 0 rows` and zero contacts to add, update or remove, though
    # the guard had read the rows and no diff was made.
    w = plan_world
    destination(w, "members", people(0, 5), limits={"maxProfiles": 2})
    destination(w, "vip", people(0, 12_000), limits={"maxProfiles": 5_000})

    code, out, _ = await syncd(w, "plan", "members")
    assert code == 1, out
    assert out.splitlines()[1:3] == [
        "  profiles            5  from 5 rows read",
        "  rejected            0",
    ], out
    code, out, _ = await syncd(w, "plan", "vip", "--output", "json")
    assert code == 1, out
    (entry,) = json.loads(out)["destinations"]
    # stopped as soon as a chunk of rows passed the limit: the rows read until then
    assert (entry["counts"]["profiles"], entry["counts"]["rows"]) == (10_000, 10_000)
    code, out, _ = await syncd(w, "plan", "--all", "--output", "markdown")
    assert "| `members` | ⛔ blocked | — | — | — | — | — |" in out, out


def test_a_plans_text_tells_the_contacts_held_in_an_open_batch() -> None:
    entry = PlanEntry(
        name="vip",
        file="vip.yaml",
        result="changes",
        counts=Counts(rows=1020, profiles=1020, unchanged=900, held=120),
    )
    text = plan_text(PlanDocument(destinations=[entry]))
    assert "  held              120  (in a batch an earlier run began" in text
