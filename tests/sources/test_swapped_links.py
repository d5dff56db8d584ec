"""A source path is checked, then opened: a link swapped in between must not lead the read
out of the allowed directories (real files, real links)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from syncd.errors import SourceUnavailable
from syncd.sources.csvfile import CsvFile
from syncd.sources.jsonl import JsonLinesFile
from syncd.sources.sqlite import SqliteQuery


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    (tmp_path / "allowed").mkdir()
    return (tmp_path / "allowed").resolve()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text("Email\nSG.canary-secret@example.com\n")
    return (tmp_path / "outside").resolve()


def swap_in_a_link(checked: Path, target: Path) -> None:
    """What an attacker with write access to the directory does after the check."""
    checked.unlink()
    checked.symlink_to(target)


def test_a_csv_file_swapped_for_a_link_after_its_check_is_not_read(
    allowed: Path, outside: Path
) -> None:
    checked = allowed / "people.csv"
    checked.write_text("Email\nperson@example.com\n")
    source = CsvFile(checked)  # the path as `Allowlists.source_file` returned it
    swap_in_a_link(checked, outside / "secret.csv")

    with pytest.raises(SourceUnavailable) as caught:
        list(source.rows(["Email"]))
    assert "was not the file opened" in caught.value.message


def test_a_directory_swapped_for_a_link_after_the_check_is_not_followed(
    allowed: Path, outside: Path
) -> None:
    (allowed / "data").mkdir()
    checked = allowed / "data" / "secret.csv"
    checked.write_text("Email\nperson@example.com\n")
    source = JsonLinesFile(checked)
    checked.unlink()
    (allowed / "data").rmdir()
    (allowed / "data").symlink_to(outside)  # the same name, one directory up

    with pytest.raises(SourceUnavailable, match="was not the file opened"):
        list(source.rows(["Email"]))


def test_a_sqlite_database_swapped_for_a_link_after_its_check_is_not_read(
    allowed: Path, outside: Path
) -> None:
    with sqlite3.connect(outside / "ledger.db") as db:
        db.execute("CREATE TABLE people (Email TEXT)")
        db.execute("INSERT INTO people VALUES ('someone@elsewhere.com')")
    db.close()
    checked = allowed / "crm.db"
    with sqlite3.connect(checked) as db:
        db.execute("CREATE TABLE people (Email TEXT)")
    db.close()
    source = SqliteQuery(checked, "SELECT Email FROM people")
    swap_in_a_link(checked, outside / "ledger.db")

    with pytest.raises(SourceUnavailable, match="was not the file opened"):
        list(source.rows(["Email"]))


def test_the_file_checked_is_read(allowed: Path) -> None:
    checked = allowed / "people.csv"
    checked.write_text("Email\nperson@example.com\n")
    assert list(CsvFile(checked).rows(["Email"])) == [(2, ["person@example.com"])]
    assert os.path.realpath(checked) == str(checked)
