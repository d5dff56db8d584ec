"""Every command says every status it can exit with: in the module, in --help, in the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syncd.cli import COMMANDS, cannot_start, exit_codes, exit_codes_table, main

DOCS = Path(__file__).resolve().parents[2] / "docs" / "commands.md"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_declares_its_exit_statuses_including_the_one_it_cannot_start_with(
    name: str,
) -> None:
    codes = exit_codes(name)
    assert 0 in codes
    assert cannot_start(name) in codes
    assert all(isinstance(code, int) and meaning.strip() for code, meaning in codes.items())


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_ends_with_the_exit_statuses(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.count("exit status:") == 1
    statuses = help_text[help_text.index("exit status:") :]
    for code, meaning in exit_codes(name).items():
        assert re.search(rf"^  {code}  {re.escape(meaning[:30])}", statuses, re.M), (code, meaning)


def test_the_docs_table_is_the_one_the_commands_declare() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = text.split("<!-- exit-codes:begin -->\n")[1].split("\n<!-- exit-codes:end -->")[0]
    assert documented == exit_codes_table(), (
        "docs/commands.md is stale; replace its exit-codes block with\n" + exit_codes_table()
    )
