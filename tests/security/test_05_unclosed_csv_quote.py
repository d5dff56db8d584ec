"""Threat 5 (medium): an unclosed quote in a CSV silently swallowed the rows after it.

The reader ran with `strict=False`: on 2,000 rows a stray `"` at row 1,700 took the
rest of the file into one field, and syncd removed the 301 contacts it no longer saw
(under the 20 % removal guard) and reported success. Now any parse error makes the
segment unreadable for the run: it stops before the diff, naming the file and line.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from syncd.emulator import Emulator
from tests.commands import syncd
from tests.corpus import STRAY_QUOTE_AT, STRAY_QUOTE_ROWS, stray_quote
from tests.reconciling.world import World
from tests.security.common import env_for


@pytest.mark.slow
async def test_a_stray_quote_at_row_1700_of_2000_fails_the_run_naming_its_line_and_removes_nobody(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    clean, broken = stray_quote(world.data)
    source = world.data / "people.csv"
    world.destination(
        {"people": {"csv": {"path": "../data/people.csv"}}},
        mapping={"email": "Email", "first_name": "FirstName"},
    )
    env = env_for(world)
    shutil.copyfile(clean, source)
    synced = await syncd("sync", "members", env=env)
    assert synced.code == 0, synced.describe()
    members = world.members()
    writes = len(emulator.write_requests())

    shutil.copyfile(broken, source)  # another team's export, one quote never closed
    failed = await syncd("sync", "members", env=env)

    said = (
        f"csv people.csv: the row starting on line {STRAY_QUOTE_AT + 1} opens a quoted field "
        "that is never closed"
    )
    assert failed.code == 1, failed.describe()
    assert said in failed.out
    assert len(members) == STRAY_QUOTE_ROWS
    assert world.members() == members  # nobody removed
    assert len(emulator.write_requests()) == writes  # nothing sent at all
