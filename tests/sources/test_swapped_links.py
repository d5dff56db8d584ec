"""A source path is checked, then opened: a link swapped in between must not lead the read
out of the allowed directories (real files, real links)."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any, cast

import pytest

from syncd.errors import SourceUnavailable
from syncd.sources import opened
from syncd.sources import sqlite as sqlite_source
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


def database(path: Path, *emails: str) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (Email TEXT)")
        db.executemany("INSERT INTO people VALUES (?)", [(email,) for email in emails])
    db.close()
    return path


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
    database(outside / "ledger.db", "someone@elsewhere.com")
    checked = database(allowed / "crm.db")
    source = SqliteQuery(checked, "SELECT Email FROM people")
    swap_in_a_link(checked, outside / "ledger.db")

    with pytest.raises(SourceUnavailable, match="was not the file opened"):
        list(source.rows(["Email"]))


def test_a_descriptor_another_read_holds_on_the_checked_database_proves_nothing(
    allowed: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another destination reading the same database holds it open, and the directory is
    # a link to elsewhere only while SQLite opens it: the check took any descriptor of the
    # process on the checked path for the one SQLite had just opened.
    database(outside / "crm.db", "someone@elsewhere.com")
    data = allowed / "data"
    data.mkdir()
    checked = database(data / "crm.db")
    holder = checked.open("rb")
    connect = sqlite3.connect

    def swapped_while_connecting(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        data.rename(allowed / "data-real")
        data.symlink_to(outside)
        try:
            opened: sqlite3.Connection = connect(*args, **kwargs)
            return opened
        finally:
            data.unlink()
            (allowed / "data-real").rename(data)

    monkeypatch.setattr(sqlite3, "connect", swapped_while_connecting)
    try:
        with pytest.raises(SourceUnavailable, match="was not the file opened"):
            list(SqliteQuery(checked, "SELECT Email FROM people").rows(["Email"]))
    finally:
        holder.close()


def test_the_file_checked_is_read(allowed: Path) -> None:
    checked = allowed / "people.csv"
    checked.write_text("Email\nperson@example.com\n")
    assert list(CsvFile(checked).rows(["Email"])) == [(2, ["person@example.com"])]
    assert os.path.realpath(checked) == str(checked)


def test_another_read_of_the_database_ending_while_one_opens_it_is_no_swap(
    allowed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two destinations reading one database at once (as `make run`'s did at start-up): the
    # other read closed its connection between this open's look at the descriptors and
    # SQLite's open, which took the freed number, and the check read that as no new
    # descriptor on the database: "a link swapped in", a failed run.
    checked = database(allowed / "crm.db", "person@example.com")
    other_read = cast(
        Generator[Any], SqliteQuery(checked, "SELECT Email FROM people").rows(["Email"])
    )
    assert next(other_read) == (1, ["person@example.com"])  # holds the database open
    looked = opened.descriptors

    def then_the_other_read_ends() -> dict[str, Path] | None:
        seen = looked()
        closer = threading.Thread(target=other_read.close)
        closer.start()
        closer.join(timeout=0.5)  # at once, unless closing waits for this open
        closers.append(closer)
        return seen

    closers: list[threading.Thread] = []
    monkeypatch.setattr(sqlite_source, "descriptors", then_the_other_read_ends)
    read = list(SqliteQuery(checked, "SELECT Email FROM people").rows(["Email"]))

    assert read == [(1, ["person@example.com"])]
    for closer in closers:
        closer.join()


def test_a_descriptor_sqlite_takes_back_for_the_same_database_is_no_swap(allowed: Path) -> None:
    # A closing connection keeps its descriptor while another of the process holds a lock
    # on the file, and the next open takes it back: no new descriptor appeared, and the
    # check called the open a swap.
    checked = database(allowed / "crm.db", *(f"p{n}@example.com" for n in range(5000)))
    query = "SELECT Email FROM people"
    under_way = SqliteQuery(checked, query).rows(["Email"])
    next(under_way)  # a read under way holds its lock
    assert len(list(SqliteQuery(checked, query).rows(["Email"]))) == 5000  # parks its fd
    assert len(list(SqliteQuery(checked, query).rows(["Email"]))) == 5000  # takes it back
    assert len(list(under_way)) == 4999
