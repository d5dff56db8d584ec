"""docs/emulator.md is right: its examples work and its knob table matches the code."""

from __future__ import annotations

import argparse
import re
import typing
from pathlib import Path

import pytest
import yaml

from syncd.emulator import Emulator, EmulatorConfig, FaultKind, FaultRule
from syncd.emulator.command import add_arguments, config_from_args
from syncd.emulator.profiles import Behaviour

DOCS = (Path(__file__).parents[2] / "docs" / "emulator.md").read_text(encoding="utf-8")
CLI_FAULTS = re.findall(r"--fault '(\{.*?\})'", DOCS)
ADMIN_FAULTS = re.findall(r"-X POST \$E/_emulator/faults -d '(\{.*?\})'", DOCS)


def test_the_seed_file_example_is_a_valid_config() -> None:
    (seed,) = re.findall(r"```yaml\n(lists:.*?)```", DOCS, flags=re.DOTALL)
    config = EmulatorConfig.model_validate(yaml.safe_load(seed))
    emulator = Emulator(config)
    assert emulator.state.list_members("5b7c0e9a-3f1d-4c2b-9a8e-6d5f4c3b2a10") == {
        "old.member@example.com"
    }


@pytest.mark.parametrize("text", CLI_FAULTS)
def test_each_command_line_fault_example_is_accepted(text: str) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config = config_from_args(parser.parse_args(["--fault", text]))
    assert len(config.faults) == 1


@pytest.mark.parametrize("text", ADMIN_FAULTS)
def test_each_admin_api_fault_example_is_a_valid_rule(text: str) -> None:
    FaultRule.model_validate_json(text)


def test_the_examples_show_every_fault_kind_both_ways() -> None:
    kinds = set(typing.get_args(FaultKind))
    assert {FaultRule.model_validate_json(text).kind for text in CLI_FAULTS} == kinds
    assert {FaultRule.model_validate_json(text).kind for text in ADMIN_FAULTS} == kinds


def _knob_table() -> dict[str, tuple[object, object]]:
    """The knob table's rows: knob -> (kind default, strict default), the cells read as YAML."""
    section = DOCS.split("## Profiles and knobs", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `([^`]*)` \| `([^`]*)` \|", section, flags=re.MULTILINE)
    return {name: (yaml.safe_load(kind), yaml.safe_load(strict)) for name, kind, strict in rows}


def test_the_knob_table_lists_every_knob_with_both_profiles_defaults() -> None:
    kind, strict = Behaviour(profile="kind"), Behaviour(profile="strict")
    knobs = [name for name in Behaviour.model_fields if name != "profile"]
    assert _knob_table() == {name: (getattr(kind, name), getattr(strict, name)) for name in knobs}
