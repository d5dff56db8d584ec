"""docs/emulator.md is right: its examples work and its knob table matches the code."""

from __future__ import annotations

import argparse
import re
import typing
from pathlib import Path

import yaml

from syncd.emulator import Emulator, EmulatorConfig
from syncd.emulator.command import add_arguments
from syncd.emulator.faults import FaultKind
from syncd.emulator.profiles import Behaviour

DOCS = (Path(__file__).parents[2] / "docs" / "emulator.md").read_text(encoding="utf-8")
(FAULTS_EXAMPLE,) = re.findall(r"```yaml\n(faults:.*?)```", DOCS, flags=re.DOTALL)


def test_the_seed_file_example_is_a_valid_config() -> None:
    (seed,) = re.findall(r"```yaml\n(lists:.*?)```", DOCS, flags=re.DOTALL)
    config = EmulatorConfig.model_validate(yaml.safe_load(seed))
    emulator = Emulator(config)
    assert emulator.state.list_members("5b7c0e9a-3f1d-4c2b-9a8e-6d5f4c3b2a10") == {
        "old.member@example.com"
    }


def test_the_fault_examples_are_valid_and_show_every_kind() -> None:
    config = EmulatorConfig.model_validate(yaml.safe_load(FAULTS_EXAMPLE))
    assert {rule.kind for rule in config.faults} == set(typing.get_args(FaultKind))


def test_the_command_line_flags_are_the_documented_ones() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    section = DOCS.split("## Starting it", 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"^\| `(--[a-z-]+)[ `]", section, flags=re.MULTILINE))
    documented |= set(re.findall(r"^\| `--[a-z-]+`, `(--[a-z-]+)`", section, flags=re.MULTILINE))
    flags = {flag for action in parser._actions for flag in action.option_strings}
    assert documented == flags - {"-h", "--help"}


def _knob_table() -> dict[str, tuple[object, object]]:
    """The knob table's rows: knob -> (kind default, strict default), the cells read as YAML."""
    section = DOCS.split("## Profiles and knobs", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| `([^`]*)` \| `([^`]*)` \|", section, flags=re.MULTILINE)
    return {name: (yaml.safe_load(kind), yaml.safe_load(strict)) for name, kind, strict in rows}


def test_the_knob_table_lists_every_knob_with_both_profiles_defaults() -> None:
    kind, strict = Behaviour(profile="kind"), Behaviour(profile="strict")
    knobs = [name for name in Behaviour.model_fields if name != "profile"]
    assert _knob_table() == {name: (getattr(kind, name), getattr(strict, name)) for name in knobs}
