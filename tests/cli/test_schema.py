"""`syncd schema`: a valid JSON Schema, equal to the committed docs/destination.schema.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from syncd.cli import main
from syncd.shapes import DOCUMENTS
from tests.loading.examples import VALID, changed

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "destination.schema.json"


def printed_schema(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["schema"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def test_the_committed_schema_equals_the_command_output(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert COMMITTED.read_text(encoding="utf-8") == printed_schema(capsys), (
        "docs/destination.schema.json is stale: run `syncd schema > docs/destination.schema.json`"
    )


def test_the_schema_is_indented_json_describing_a_destination(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = printed_schema(capsys)

    schema = json.loads(text)
    assert text.startswith('{\n  "')
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["apiVersion", "kind", "metadata", "spec"]


def example(text: str) -> Any:
    return yaml.safe_load(text)


def test_the_schema_is_a_valid_json_schema_that_accepts_the_example_and_refuses_mistakes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator_class = jsonschema.Draft202012Validator
    schema = json.loads(printed_schema(capsys))

    validator_class.check_schema(schema)
    validator = validator_class(schema)

    assert list(validator.iter_errors(example(VALID))) == []
    mistakes = [
        changed("  onLeave:", "  bogus: 1\n  onLeave:"),
        changed("apiKey: {env: SENDGRID_API_KEY}", "apiKey: SG.inline.key"),
        changed("    email: EmailAddress\n", ""),
        changed("onLeave: removeFromList", "onLeave: nuke"),
        changed("listId: 7f3c2a9e-1b4d-4c8e-9a52-3e6f0b1d2c4a", "listId: my-list"),
        changed("source: {csv: {path: ../examples/data/vip.csv}}", "source: {}"),
    ]
    for mistake in mistakes:
        assert list(validator.iter_errors(example(mistake))), mistake


@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_each_documents_committed_schema_equals_the_command_output(
    document: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", f"--{document}"]) == 0
    out, _ = capsys.readouterr()
    committed = COMMITTED.parent / "schemas" / f"{document}.schema.json"
    write = f"run `syncd schema --{document} > docs/schemas/{committed.name}`"
    assert committed.exists(), write
    assert committed.read_text(encoding="utf-8") == out, f"{committed.name} is stale: {write}"
    assert json.loads(out)["properties"]["schemaVersion"]["const"] == "syncd/v1"


def test_the_schemas_directory_holds_no_document_syncd_does_not_print() -> None:
    committed = {p.name for p in (COMMITTED.parent / "schemas").glob("*.schema.json")}
    assert committed == {f"{name}.schema.json" for name in DOCUMENTS}


def test_the_commands_doc_names_every_document_a_schema_is_printed_for() -> None:
    # The command table's `syncd schema` line left out `--rejections`.
    commands = (COMMITTED.parent / "commands.md").read_text(encoding="utf-8")
    (line,) = [row for row in commands.splitlines() if row.startswith("| `syncd schema [")]
    (section,) = commands.split("## `syncd schema`\n")[1:]
    section = section.split("\n## ")[0]
    for name in DOCUMENTS:
        assert f"--{name}\\|" in line or f"--{name}]" in line, name
        assert f"`--{name}`" in section, name
