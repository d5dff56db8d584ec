"""Profiles choose the knobs' defaults; every knob stays settable on its own, also at run time."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from syncd.emulator import Emulator, EmulatorConfig
from syncd.emulator.command import add_arguments, config_from_args, run
from syncd.emulator.profiles import Behaviour
from tests.emulator.helpers import call

STRICT_KNOBS = {
    "profile": "strict",
    "bad_values": "upfront",
    "custom_value_rules": "strict",
    "search_max_email_length": 100,
    "search_errors_name_email": False,
    "search_lag": 2.0,
    "removal_jobs_pollable": False,
    "errors_file_format": "csv",
    "errors_file_email_header": "Email Address",
    "errors_file_reason_header": "Error",
    "errors_file_omits": 0,
    "contact_limit": None,
    "rate_limit_header_case": "sendgrid",
    "legacy_account": False,
    "export_gzip": True,
    "export_file_rows": None,
    "export_header_case": "upper",
}


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_the_strict_profile_sets_every_knob_to_its_strict_value() -> None:
    assert EmulatorConfig(profile="strict").behaviour.knobs() == STRICT_KNOBS


def test_the_kind_profile_is_the_default_and_keeps_the_original_behaviour() -> None:
    kind = EmulatorConfig().behaviour
    assert kind == Behaviour(profile="kind")
    assert (kind.bad_values, kind.search_lag, kind.removal_jobs_pollable) == ("in_job", 0, True)
    assert (kind.errors_file_email_header, kind.errors_file_reason_header) == ("email", "error")


def test_a_knob_given_on_its_own_wins_over_the_profile() -> None:
    config = EmulatorConfig.model_validate({"profile": "strict", "search_lag": 0, "export_gzip": 0})
    assert (config.search_lag, config.export_gzip, config.bad_values) == (0, False, "upfront")


def test_a_seed_file_and_flags_set_the_profile_and_knobs(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("profile: strict\nsearch_lag: 30\ncontact_limit: 5\n")
    config = config_from_args(
        parse(
            "--seed", str(seed), "--knob", "contact_limit=null", "--knob", "errors_file_format=json"
        )
    )
    assert (config.profile, config.search_lag) == ("strict", 30)
    assert (config.contact_limit, config.errors_file_format) == (None, "json")
    assert config_from_args(parse("--profile", "strict")).behaviour.knobs() == STRICT_KNOBS
    header = config_from_args(parse("--knob", "errors_file_email_header=Email Address"))
    assert header.errors_file_email_header == "Email Address"


@pytest.mark.parametrize(
    "knob", ["search_lag", "lag=3", "search_lag=-1", "bad_values=later", "profile=paranoid"]
)
def test_a_bad_knob_on_the_command_line_exits_with_2(
    knob: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parse("--knob", knob)) == 2
    assert capsys.readouterr().err.startswith("syncd emulator: ")


def test_an_unknown_profile_on_the_command_line_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit, match="2"):
        parse("--profile", "paranoid")
    assert "invalid choice: 'paranoid'" in capsys.readouterr().err


@pytest.fixture
async def admin(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emulator.url) as session:
        yield session


async def test_the_admin_api_shows_and_changes_knobs_at_run_time(
    emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    status, knobs = await call(admin, "GET", "/_emulator/behaviour")
    assert (status, knobs) == (200, EmulatorConfig().behaviour.knobs())
    status, knobs = await call(
        admin, "PATCH", "/_emulator/behaviour", json={"contact_limit": 10, "search_lag": 30}
    )
    assert status == 200
    assert (knobs["contact_limit"], knobs["search_lag"], knobs["profile"]) == (10, 30, "kind")
    assert emulator.services.behaviour.contact_limit == 10
    status, knobs = await call(admin, "PATCH", "/_emulator/behaviour", json={"contact_limit": None})
    assert (status, knobs["contact_limit"], knobs["search_lag"]) == (200, None, 30)


async def test_naming_a_profile_at_run_time_starts_from_its_defaults(
    admin: aiohttp.ClientSession,
) -> None:
    await call(admin, "PATCH", "/_emulator/behaviour", json={"search_lag": 30})
    status, knobs = await call(
        admin, "PATCH", "/_emulator/behaviour", json={"profile": "strict", "export_gzip": False}
    )
    assert status == 200
    assert knobs == {**STRICT_KNOBS, "export_gzip": False}


@pytest.mark.parametrize(
    "change", [{"search_lag": -1}, {"bad_values": "never"}, {"planets": 9}, ["search_lag"]]
)
async def test_an_invalid_knob_change_is_a_400_and_changes_nothing(
    emulator: Emulator, admin: aiohttp.ClientSession, change: object
) -> None:
    status, answer = await call(admin, "PATCH", "/_emulator/behaviour", json=change)
    assert status == 400
    assert answer["errors"][0]["message"]
    assert emulator.services.behaviour == EmulatorConfig().behaviour


async def test_a_reset_restores_the_configured_knobs(
    emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    await call(admin, "PATCH", "/_emulator/behaviour", json={"legacy_account": True})
    _, state = await call(admin, "GET", "/_emulator/state")
    assert state["behaviour"]["legacy_account"] is True
    await call(admin, "POST", "/_emulator/reset")
    assert emulator.services.behaviour.legacy_account is False
