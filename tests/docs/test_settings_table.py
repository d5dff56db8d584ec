"""docs/operations.md documents every setting, as the settings model declares it."""

from __future__ import annotations

from pathlib import Path

from syncd.cli.settings_table import BEGIN, END, rewritten, table
from syncd.settings import Settings

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_the_settings_table_in_the_docs_is_the_one_the_model_generates() -> None:
    document = OPERATIONS.read_text(encoding="utf-8")
    assert rewritten(document) == document, "run `make docs` and commit docs/operations.md"


def test_every_setting_has_a_row_and_a_meaning() -> None:
    rows = table().splitlines()[2:]
    assert len(rows) == len(Settings.model_fields)
    assert all(not row.endswith("|  |") for row in rows)
    document = OPERATIONS.read_text(encoding="utf-8")
    assert document.index(BEGIN) < document.index(END)
