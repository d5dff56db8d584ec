"""The run's stop signal reaches the readers: a read ends soon after it, never wedges."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from syncd.errors import LedgerUnavailable, SourceUnavailable
from syncd.ledger import RunRecord, open_ledger
from syncd.sources.base import RowSource
from syncd.sources.csvfile import CsvFile
from syncd.sources.jsonl import JsonLinesFile
from tests.fixtures_emulator import TEST_API_KEY
from tests.reconciling.world import World, people

ROWS = 200_000
ENDLESS = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
    "SELECT x AS EmailAddress, x AS FirstName, x AS LastName, x AS Tier FROM n WHERE x < 0"
)


def big_files(directory: Path) -> tuple[Path, Path]:
    emails = [f"person.{n}@example.com" for n in range(ROWS)]
    csv_path = directory / "big.csv"
    csv_path.write_text("Email\n" + "\n".join(emails) + "\n")
    jsonl_path = directory / "big.jsonl"
    jsonl_path.write_text("".join(json.dumps({"Email": e}) + "\n" for e in emails))
    return csv_path, jsonl_path


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_file_read_ends_soon_after_the_stop_signal(tmp_path: Path, kind: str) -> None:
    csv_path, jsonl_path = big_files(tmp_path)
    stop = threading.Event()
    source: RowSource = (
        CsvFile(csv_path, stopping=stop.is_set)
        if kind == "csv"
        else JsonLinesFile(jsonl_path, stopping=stop.is_set)
    )
    read = 0

    def consume() -> None:
        nonlocal read
        for _ in source.rows(["Email"]):
            read += 1
            if read == 10:
                stop.set()

    with pytest.raises(SourceUnavailable) as caught:
        consume()
    assert caught.value.message == f"stopping: {source.description} was not read to the end"
    assert read < ROWS // 10  # within a chunk or so of the signal


async def test_a_run_told_to_stop_while_reading_ends_temporary_and_sends_nothing(
    sync_world: World,
) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 50))})
    report = await w.sync(stopping=lambda: True)
    assert report.outcome == "temporary"
    assert report.error == "stopping: csv vip.csv was not read to the end"
    assert w.emulator.write_requests() == []


async def test_sigterm_ends_run_once_during_an_endless_sqlite_query(sync_world: World) -> None:
    w = sync_world
    database = w.data / "endless.db"
    sqlite3.connect(database).close()
    w.destination({"all": {"sqlite": {"path": "../data/endless.db", "query": ENDLESS}}})
    w.ledger.close()
    state = str(w.root / "once.db")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        "run",
        "--once",
        env={
            **os.environ,
            "SENDGRID_API_KEY": TEST_API_KEY,
            "SYNCD_SENDGRID_BASE_URL": w.emulator.url,
            "SYNCD_DESTINATIONS": str(w.destinations),
            "SYNCD_STATE": state,
            "SYNCD_LOG_FORMAT": "json",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(30):  # the run has begun: it is reading
            while not Path(state).exists() or not _runs(state):
                await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 15)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 1, output.decode()
    (run,) = _runs(state)
    assert (run.outcome, run.error) == (
        "temporary",
        "stopping: sqlite endless.db was not read to the end",
    )


def _runs(state: str) -> list[RunRecord]:
    """The run recorded so far; none while the process is still creating the ledger (read
    between its first tables and its migrations, it has no `runs.read_path` yet)."""
    try:
        ledger = open_ledger(state, writer=False)
    except LedgerUnavailable:
        return []
    try:
        return list(ledger.runs("members", 1))
    except LedgerUnavailable:
        return []
    finally:
        ledger.close()
