"""`syncd validate --online`: a run's preflight for every destination, writing nothing.

Real processes against the strict emulator over HTTP."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from syncd.emulator import ALL_SCOPES, Emulator, EmulatorConfig
from syncd.emulator.store import CustomField
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID, strict_emulator_config
from tests.reconciling.world import World, people

NO_DELETE_KEY = "SG.no-delete-scope.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
READ_ONLY_KEY = "SG.read-only-scope.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
OTHER_LIST = "0f6d2c1e-8a7b-4c3d-9e2f-1a0b9c8d7e6f"
MISSING_LIST = "00000000-0000-4000-8000-000000000000"
DELETE_SCOPE = "marketing_campaigns.delete"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    keys = {
        TEST_API_KEY: ALL_SCOPES,
        NO_DELETE_KEY: ALL_SCOPES - {DELETE_SCOPE},
        READ_ONLY_KEY: frozenset({"marketing.read"}),
    }
    return strict_emulator_config(api_keys=keys)


@pytest.fixture
async def w(tmp_path: Path, emulator: Emulator) -> World:
    built = World(tmp_path, emulator)
    built.ledger.close()
    return built


async def validate_online(w: World, *, key: str = TEST_API_KEY) -> tuple[int, list[str], str]:
    env = {
        **os.environ,
        "SENDGRID_API_KEY": key,
        "SYNCD_SENDGRID_BASE_URL": w.emulator.url,
        "SYNCD_LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        "validate",
        "--online",
        str(w.destinations),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines(), err.decode()


def sendgrid(list_id: str) -> dict[str, Any]:
    return {"sendgrid": {"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": list_id}}


async def test_a_destination_that_would_run_passes_with_what_was_found(w: World) -> None:
    w.destination({"vip": w.csv("vip", people(0, 3))})

    code, lines, err = await validate_online(w)

    assert code == 0, (lines, err)
    assert lines == [
        f"{w.destinations / 'members.yaml'}: members: online: the key from env SENDGRID_API_KEY "
        f"has the scopes needed; list {TEST_LIST_ID} (syncd-test) exists; custom fields "
        "loyalty_tier (Text) exist"
    ]
    assert err.strip().endswith("1 file valid, 0 invalid; online: 1 passed, 0 with problems")
    assert w.emulator.write_requests() == []


async def test_a_key_without_the_delete_scope_is_reported_by_scope_with_exit_1(
    w: World,
) -> None:
    w.destination({"vip": w.csv("vip", people(0, 3))}, onLeave="removeFromList")
    w.destination(
        {"vip": w.csv("vip", people(0, 3))}, name="keeper", onLeave="keep", **sendgrid(OTHER_LIST)
    )
    w.emulator.state.add_list("other", OTHER_LIST)

    code, lines, err = await validate_online(w, key=NO_DELETE_KEY)

    assert code == 1
    members, keeper = (f"{w.destinations / name}.yaml" for name in ("members", "keeper"))
    assert lines[0].startswith(f"{keeper}: keeper: online: ")
    assert lines[1] == (
        f"{members}: members: the API key from env SENDGRID_API_KEY lacks the scope(s) "
        f"{DELETE_SCOPE} (to take contacts that left the segment off the list (spec.onLeave)): "
        "nothing was written. Give the key these permissions in SendGrid (Settings > API "
        "Keys), or use another key"
    )
    assert len(lines) == 2
    assert "online: 1 passed, 1 with problems" in err
    assert w.emulator.count_requests(template="GET /v3/scopes") == 1  # once per key
    assert w.emulator.write_requests() == []


async def test_a_missing_list_and_a_missing_custom_field_are_both_reported(w: World) -> None:
    w.destination(
        {"vip": w.csv("vip", people(0, 3))},
        **sendgrid(MISSING_LIST),
        mapping={
            "email": "EmailAddress",
            "custom_fields": {"loyalty_tier": "Tier", "nope": "Tier"},
        },
    )

    code, lines, _ = await validate_online(w)

    assert code == 1
    assert len(lines) == 2
    assert f"list {MISSING_LIST} does not exist in this SendGrid account" in lines[0]
    assert "spec.mapping.custom_fields: custom field(s) nope do not exist in SendGrid" in lines[1]
    assert w.emulator.write_requests() == []


async def test_a_read_only_key_names_every_missing_scope_and_checks_the_rest_no_further(
    w: World,
) -> None:
    w.destination({"vip": w.csv("vip", people(0, 3))}, **sendgrid(MISSING_LIST))

    code, lines, _ = await validate_online(w, key=READ_ONLY_KEY)

    assert code == 1
    assert len(lines) == 2  # the scopes, then the list: the key may read it
    for scope in ("marketing_campaigns.create", "marketing_campaigns.update", DELETE_SCOPE):
        assert scope in lines[0]
    assert "does not exist" in lines[1]


async def test_a_legacy_account_is_told_apart_from_a_missing_scope(w: World) -> None:
    w.emulator.services.behaviour = w.emulator.services.behaviour.changed({"legacy_account": True})
    w.destination({"vip": w.csv("vip", people(0, 3))})

    code, lines, _ = await validate_online(w)

    assert code == 1
    assert len(lines) == 1
    assert "the account may use legacy Marketing Campaigns" in lines[0]
    assert f"refused to show list {TEST_LIST_ID} (403)" in lines[0]


async def test_a_custom_field_of_a_type_syncd_does_not_send_is_a_problem(w: World) -> None:
    # A type SendGrid might add one day: the emulator itself only creates the three.
    w.emulator.state.custom_fields["e9_B"] = CustomField("e9_B", "opted_in", "Boolean")
    w.destination(
        {"vip": w.csv("vip", people(0, 3))},
        mapping={"email": "EmailAddress", "custom_fields": {"opted_in": "Tier"}},
    )

    code, lines, _ = await validate_online(w)

    assert code == 1
    assert lines == [
        f"{w.destinations / 'members.yaml'}: members: spec.mapping.custom_fields: opted_in is a "
        "Boolean field in SendGrid, and syncd sends Text, Number, Date values only: map other "
        "fields, or give these one of those types in SendGrid"
    ]


async def test_a_refused_key_and_an_invalid_file_are_reported_and_the_rest_checked(
    w: World,
) -> None:
    w.destination({"vip": w.csv("vip", people(0, 3))})
    w.destination({"vip": w.csv("vip", people(0, 3))}, name="other", **sendgrid(OTHER_LIST))
    w.emulator.state.add_list("other", OTHER_LIST)
    (w.destinations / "broken.yaml").write_text("apiVersion: syncd/v1\n")

    code, lines, err = await validate_online(w, key="SG.unknown-key")

    assert code == 1
    broken = str(w.destinations / "broken.yaml")
    assert lines[0].startswith(f"{broken}:1:1: ")
    online = [line for line in lines if not line.startswith(broken)]
    assert [line.split(": ", 2)[1] for line in online] == ["members", "other"]
    assert all("SendGrid refused the API key (401 Unauthorized)" in line for line in online)
    assert "SG.unknown-key" not in "\n".join(lines) + err
    assert "2 files valid, 1 invalid; online: 0 passed, 2 with problems" in err
