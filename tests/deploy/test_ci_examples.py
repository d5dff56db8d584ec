"""The example CI jobs of deploy/ci/: valid against their platforms' schemas (vendored in
tests/deploy/schemas/, see its README), and every `syncd` command they run exists with
those options, as syncd's own argument parser and option checks read them."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from syncd.cli import build_parser
from syncd.cli.planning import check_options
from tests.deploy.conftest import DEPLOY

SCHEMAS = Path(__file__).parent / "schemas"
GITHUB = DEPLOY / "ci" / "github-actions.yaml"
GITLAB = DEPLOY / "ci" / "gitlab-ci.yaml"
OPERATORS = {"||", "&&", "|", ";", "&"}
# What the shell would put in place of a variable, where the value matters to the parser.
EXPANDED = {"${files[@]}": ["--file", "destinations.d/vip.yaml"], "$@": ["--file", "x.yaml"]}


def document(path: Path) -> Any:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in loaded:  # YAML 1.1 reads a bare `on:` key as true; GitHub reads it as "on"
        loaded["on"] = loaded.pop(True)
    return loaded


def schema_errors(path: Path, schema: str) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft7Validator(yaml.safe_load((SCHEMAS / schema).read_text()))
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document(path))
    ]


def scripts(path: Path) -> list[str]:
    found = document(path)
    if path == GITHUB:
        return [
            step["run"] for job in found["jobs"].values() for step in job["steps"] if "run" in step
        ]
    return [
        line for job in found.values() if isinstance(job, dict) for line in job.get("script", [])
    ]


def syncd_commands(script: str) -> list[list[str]]:
    """The argument lists of the lines that start with `syncd`, outside heredocs."""
    commands = []
    heredoc: str | None = None
    for line in script.replace("\\\n", " ").splitlines():
        stripped = line.strip()
        if heredoc is not None:
            heredoc = None if stripped == heredoc else heredoc
            continue
        if "<<'" in stripped:
            heredoc = stripped.split("<<'", 1)[1].split("'", 1)[0]
        words = shlex.split(stripped, comments=True) if stripped.startswith("syncd ") else []
        if not words:
            continue
        args: list[str] = []
        for word in words[1:]:
            if word in OPERATORS or word.startswith((">", "<")):
                break
            args += EXPANDED.get(word, ["VALUE"] if word.startswith("$") else [word])
        commands.append(args)
    return commands


def test_the_github_workflow_is_valid_against_schemastores_schema() -> None:
    assert schema_errors(GITHUB, "github-workflows.json") == []


def test_the_gitlab_job_is_valid_against_gitlabs_schema() -> None:
    assert schema_errors(GITLAB, "gitlab-ci.json") == []


@pytest.mark.parametrize("path", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_every_syncd_command_the_jobs_run_exists_with_those_options(path: Path) -> None:
    commands = [args for script in scripts(path) for args in syncd_commands(script)]
    assert {args[0] for args in commands} == {"validate", "plan"}, commands
    for args in commands:
        parsed = build_parser(args).parse_args(args)  # exits 2 on an unknown option
        if parsed.command == "plan":
            check_options(parsed)
            assert parsed.remote
            assert parsed.files
            assert parsed.output == "markdown"


def test_the_plan_step_passes_on_no_change_and_changes_and_fails_on_anything_else() -> None:
    for path in (GITHUB, GITLAB):
        text = "\n".join(scripts(path))
        assert '[ "$rc" = 0 ] || [ "$rc" = 2 ]' in text
        assert "SYNCD_ADMIN_TOKEN" in path.read_text()
