"""Threat 14 (low): the ledger (every address of every segment) readable by anyone on the
host, and a ledger path with `#` or `?` splitting the database from its lock (two writers
at once)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from syncd.errors import LedgerConflict
from syncd.ledger import open_ledger
from syncd.ledger.sqlite import SqliteLedger

COMPANIONS = ("", "-wal", "-shm", ".lock")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_something(state: Path) -> None:
    ledger = open_ledger(str(state))
    try:
        with ledger.session("members") as session:
            session.begin_run("manual", "digest")
            # As a running daemon has them: the -wal and -shm exist while it is connected.
            files = {suffix: state.with_name(state.name + suffix) for suffix in COMPANIONS}
            assert all(f.exists() for f in files.values()), [str(f) for f in files.values()]
            for suffix, file in files.items():
                assert mode(file) == 0o600, (suffix, oct(mode(file)))
    finally:
        ledger.close()


def test_the_ledger_and_its_companions_are_created_for_the_owner_alone(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, under which files are world-readable
    try:
        write_something(tmp_path / "state" / "state.db")
    finally:
        os.umask(old)
    assert mode(tmp_path / "state") == 0o700


def test_an_existing_world_readable_ledger_is_tightened_with_a_warning(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    open_ledger(str(state)).close()
    for suffix in ("", ".lock"):
        state.with_name(state.name + suffix).chmod(0o644)

    with capture_logs() as logs:
        write_something(state)

    tightened = [e for e in logs if e["event"] == "ledger.permissions_tightened"]
    assert sorted(e["file"] for e in tightened) == [str(state), f"{state}.lock"]
    assert {e["log_level"] for e in tightened} == {"warning"}


@pytest.mark.parametrize("directory", ["ledger#1", "what?mode=memory", "50% off", "a b"])
def test_a_path_with_uri_characters_keeps_the_database_beside_its_lock(
    tmp_path: Path, directory: str
) -> None:
    state = tmp_path / directory / "state.db"
    first = SqliteLedger(state)
    try:
        with first.session("members") as session:
            session.begin_run("manual", "digest")
            assert sorted(p.name for p in state.parent.iterdir()) == [
                "state.db",
                "state.db-shm",
                "state.db-wal",
                "state.db.lock",
            ]
        assert sorted(p.name for p in tmp_path.iterdir()) == [directory]  # nothing elsewhere
        with pytest.raises(LedgerConflict):
            SqliteLedger(state)  # one writer: the same lock guards the same database
        reader = open_ledger(str(state), writer=False)
        try:
            assert [r.trigger for r in reader.runs("members", limit=5)] == ["manual"]
        finally:
            reader.close()
    finally:
        first.close()
