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
    "errors_file_expired": False,
    "contact_limit": None,
    "contact_limit_per_contact": False,
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


def test_a_seed_file_sets_the_profile_and_knobs(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("profile: strict\nsearch_lag: 30\nerrors_file_email_header: Email Address\n")
    config = config_from_args(parse("--seed", str(seed)))
    assert (config.profile, config.search_lag) == ("strict", 30)
    assert config.errors_file_email_header == "Email Address"
    seed.write_text("profile: strict\n")
    assert config_from_args(parse("--seed", str(seed))).behaviour.knobs() == STRICT_KNOBS


@pytest.mark.parametrize(
    "knobs", ["search_lag: -1", "lag: 3", "bad_values: later", "profile: paranoid"]
)
def test_a_bad_knob_in_the_seed_file_exits_with_2(
    tmp_path: Path, knobs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(knobs)
    assert run(parse("--seed", str(seed))) == 2
    assert capsys.readouterr().err.startswith("syncd emulator: ")


@pytest.fixture
async def admin(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emulator.url) as session:
        yield session


async def test_the_admin_api_changes_knobs_at_run_time_and_the_state_shows_them(
    emulator: Emulator, admin: aiohttp.ClientSession
) -> None:
    status, knobs = await call(
        admin, "PATCH", "/_emulator/behaviour", json={"contact_limit": 10, "search_lag": 30}
    )
    assert status == 200
    assert (knobs["contact_limit"], knobs["search_lag"], knobs["profile"]) == (10, 30, "kind")
    assert emulator.services.behaviour.contact_limit == 10
    status, knobs = await call(admin, "PATCH", "/_emulator/behaviour", json={"contact_limit": None})
    assert (status, knobs["contact_limit"], knobs["search_lag"]) == (200, None, 30)
    _, state = await call(admin, "GET", "/_emulator/state")
    assert state["behaviour"] == knobs


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
