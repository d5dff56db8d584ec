"""`syncd probe --live` as a user runs it: a real process against the strict emulator over HTTP
(never anything else), which it must leave as it found it."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from syncd.cli import probing
from syncd.emulator import Emulator
from syncd.reconciling.probing import BEHAVIOURS
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID

SCRATCH = "syncd-probe-scratch"
DOCS = Path(__file__).parents[2] / "docs" / "probe.md"


def knobs(emulator: Emulator, **changes: object) -> None:
    emulator.services.behaviour = emulator.services.behaviour.changed(changes)


async def start(emulator: Emulator, *args: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "SENDGRID_API_KEY": TEST_API_KEY,
        "OTHER_KEY": TEST_API_KEY,
        "SYNCD_SENDGRID_BASE_URL": emulator.url,
        "SYNCD_LOG_FORMAT": "json",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        "probe",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    """A suite started in the background by a shell without job control inherits SIGINT
    ignored, and so would the probe: the Ctrl-C test would then wait for ever."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def probe(emulator: Emulator, *args: str) -> tuple[int, str, str]:
    process = await start(emulator, *args)
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def assert_left_as_found(emulator: Emulator) -> None:
    state = emulator.state
    assert list(state.lists) == [TEST_LIST_ID]
    assert sorted(c.name for c in state.custom_fields.values()) == ["loyalty_tier", "orders"]
    assert state.contacts == {}


async def test_without_live_it_refuses_and_says_what_it_would_do(emulator: Emulator) -> None:
    code, out, err = await probe(emulator, "--list-name", SCRATCH)

    assert code == 2
    assert out == ""
    assert err.startswith("syncd probe: refused without --live. The probe writes to the SendGrid")
    for step in ("1. read the key's scopes", "2. create a list", "7. delete the contacts"):
        assert step in err
    assert "It needs the flag because it adds contacts to a real account" in err
    assert emulator.requests == []


@pytest.mark.slow
async def test_against_the_strict_emulator_it_prints_each_finding_and_leaves_nothing(
    emulator: Emulator,
) -> None:
    knobs(emulator, search_lag=2.0)  # the strict profile's own lag

    code, out, err = await probe(emulator, "--live", "--list-name", SCRATCH)

    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == f"syncd probe against {emulator.url}, scratch list {SCRATCH!r}:"
    findings = lines[1 : 1 + len(BEHAVIOURS)]
    assert [line.split(" [", 1)[0] for line in findings] == list(BEHAVIOURS)
    assert all("; syncd assumes " in line for line in findings)
    assert "search-lag [agrees]: found on the list with their values 2 s after" in out
    assert "removal-job-pollable [agrees]: not pollable: " in out
    assert "errors-file-layout [not observed]: no job rejected a contact" in out
    assert lines[-2].startswith("clean-up deleted: contacts whose address starts with syncd-probe-")
    assert lines[-1] == ("9 of 11 behaviours agree with syncd's assumptions; 2 not observed")
    assert TEST_API_KEY not in out + err
    assert_left_as_found(emulator)


async def test_json_output_names_each_disagreement_and_exits_3(emulator: Emulator) -> None:
    knobs(emulator, bad_values="in_job", custom_value_rules="lenient", removal_jobs_pollable=True)

    code, out, _ = await probe(emulator, "--live", "--list-name", SCRATCH, "--output", "json")

    assert code == 3
    document = json.loads(out)
    assert document["schemaVersion"] == "syncd/v1"
    assert [f["behaviour"] for f in document["findings"]] == list(BEHAVIOURS)
    assert all(
        set(f) == {"behaviour", "observed", "syncdAssumes", "agrees", "details"}
        for f in document["findings"]
    )
    assert document["disagreements"] == ["blank-typed-values"]
    assert document["error"] is None
    cleanup = document["cleanup"]
    assert (cleanup["complete"], cleanup["leftBehind"], cleanup["kept"]) == (True, [], [])
    assert [c["kind"] for c in cleanup["deleted"]] == [
        "contacts",
        "list",
        "customField",
        "customField",
    ]
    assert_left_as_found(emulator)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_a_probe_stopped_midway_cleans_up_then_exits_1(
    emulator: Emulator, signum: signal.Signals
) -> None:
    knobs(emulator, search_lag=3600.0)  # step 5 waits for search for ever
    process = await start(emulator, "--live", "--list-name", SCRATCH)
    while not emulator.state.contacts:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)

    process.send_signal(signum)
    out, _ = await process.communicate()

    assert process.returncode == 1
    assert "error (interrupted): interrupted (Ctrl-C or SIGTERM) before its last step" in (
        out.decode()
    )
    assert "deleted with the scratch list (delete_contacts=true)" in out.decode()
    assert_left_as_found(emulator)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "--list-name NAME is required"),
        (("--list-name", "x" * 101), "--list-name NAME is required"),
        (("--list-name", SCRATCH, "--email-domain", "localhost"), "--email-domain localhost: "),
        (("--list-name", SCRATCH, "--max-wait", "0"), "--max-wait SECONDS must be more than 0"),
    ],
)
async def test_a_usage_error_exits_2_before_any_request(
    emulator: Emulator, args: tuple[str, ...], message: str
) -> None:
    code, _, err = await probe(emulator, "--live", *args)

    assert code == 2
    assert err.startswith(f"syncd probe: {message}")
    assert emulator.requests == []


async def test_a_key_variable_the_allowlist_does_not_name_is_refused_before_any_request(
    emulator: Emulator,
) -> None:
    code, out, _ = await probe(
        emulator, "--live", "--list-name", SCRATCH, "--api-key-env", "OTHER_KEY", "--output", "json"
    )

    assert code == 1
    error = json.loads(out)["error"]
    assert error["code"] == "cannotStart"
    assert error["message"].startswith("--api-key-env: environment variable OTHER_KEY ")
    assert "SYNCD_SECRET_ENV" in error["message"]
    assert emulator.requests == []


def test_the_docs_name_every_behaviour_and_every_option() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    parser = argparse.ArgumentParser(add_help=False)
    probing.add_arguments(parser)
    options = [option for action in parser._actions for option in action.option_strings]
    missing: list[str] = [b for b in BEHAVIOURS if f"| `{b}` |" not in docs]
    missing += [option for option in options if f"`{option}" not in docs]
    assert not missing, f"docs/probe.md does not describe: {missing}"
