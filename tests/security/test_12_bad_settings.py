"""Threat 12 (low): a malformed DSN, bad settings and a busy port ended in a traceback.

`SYNCD_STATE="host=db user=syncd ..."` (a libpq key=value string where a URL belongs)
raised a ValueError out of the process. Now each bad setting ends in one line naming
the setting, never its value, and exit status 2 (1 for `syncd plan`, whose 2 means
"changes" and passes a CI check).
"""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest

from syncd.cli import main
from syncd.emulator import Emulator
from syncd.ledger.sqlite_schema import SCHEMA_VERSION
from tests.commands import syncd
from tests.reconciling.world import World, people
from tests.security.common import env_for, port_in_use


@pytest.fixture
def world(tmp_path: Path, emulator: Emulator) -> World:
    built = World(tmp_path, emulator)
    built.ledger.close()
    built.destination({"vip": built.csv("vip", people(0, 5))}, name="members")
    return built


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("SYNCD_LISTEN", "nonsense", "syncd: SYNCD_LISTEN: should be HOST:PORT"),
        ("SYNCD_METRICS_LISTEN", "0.0.0.0", "syncd: SYNCD_METRICS_LISTEN: should be HOST:PORT"),
        ("SYNCD_SHUTDOWN_TIMEOUT", "-1", "syncd: SYNCD_SHUTDOWN_TIMEOUT: Input should be greater"),
        (
            "SYNCD_SENDGRID_BASE_URL",
            "http://10.0.0.7:3030",
            "syncd: SYNCD_SENDGRID_BASE_URL: http://10.0.0.7:3030 uses plain http",
        ),
        ("SYNCD_SECRET_ENV", "NOT A NAME", "syncd: SYNCD_SECRET_ENV: 'NOT A NAME' should be"),
        (
            "SYNCD_ADMIN_TOKEN",
            "   ",
            "syncd: SYNCD_ADMIN_TOKEN: should be printable ASCII without spaces",
        ),
        (
            "SYNCD_STATE",
            "host=db user=syncd password=CANARY-ledger-pw",
            "syncd: SYNCD_STATE: takes a SQLite file path or a postgresql:// URL, not a "
            "key=value connection string: write it as postgresql://USER@HOST:5432/DBNAME",
        ),
        (
            # Neither a file nor PostgreSQL: it was opened as a SQLite file named so.
            "SYNCD_STATE",
            "mysql://syncd:CANARY-ledger-pw@db/syncd",
            "syncd: SYNCD_STATE: takes a SQLite file path or a postgresql:// URL, not a "
            "mysql:// URL: write a file path (a SQLite ledger) or postgresql://",
        ),
    ],
)
def test_a_setting_refused_ends_in_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setting: str,
    value: str,
    says: str,
) -> None:
    # In this process: settings are read before any command starts, the same way for
    # each (the next test runs the commands as processes).
    monkeypatch.setenv(setting, value)

    code = main(["validate"])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(says), line
    assert "CANARY" not in err


@pytest.mark.slow
async def test_run_status_and_plan_refuse_to_start_with_a_bad_setting_and_plan_says_no_changes(
    world: World,
) -> None:
    """Settings are read before any command starts: each ends the same way, with 1 for
    `syncd plan`, whose 2 would tell CI that there are changes."""
    commands = {("run",): 2, ("status",): 2, ("plan", "members"): 1}
    env = env_for(world, SYNCD_STATE="host=db user=syncd password=CANARY-ledger-pw")
    done = await asyncio.gather(*(syncd(*command, env=env) for command in commands))

    for ran, status in zip(done, commands.values(), strict=True):
        assert ran.code == status, ran.describe()
        (line,) = ran.err.splitlines()
        assert line.startswith("syncd: SYNCD_STATE: takes a SQLite file path"), line
        assert "CANARY" not in ran.text
    assert world.emulator.requests == []


async def test_a_ledger_directory_that_cannot_be_made_ends_in_one_line(world: World) -> None:
    state = world.root / "not-a-directory"
    state.write_text("")
    env = env_for(world, SYNCD_STATE=str(state / "state.db"))

    done = await syncd("run", env=env)

    assert done.code == 1, done.describe()
    assert done.err.splitlines()[-1] == (
        f"syncd run: ledger {state}/state.db: cannot create its directory {state}: File "
        "exists; point SYNCD_STATE at a writable directory"
    )
    assert "Traceback" not in done.err
    assert world.emulator.requests == []


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("SYNCD_LISTEN", "SYNCD_LISTEN (or --listen)"),
        ("SYNCD_METRICS_LISTEN", "SYNCD_METRICS_LISTEN"),
    ],
)
async def test_a_port_in_use_ends_in_one_line_naming_the_setting(
    world: World, setting: str, named: str
) -> None:
    taken, port = port_in_use()
    # The other listener on a free port: the default 9108 may be in use on this machine.
    ports = {"SYNCD_LISTEN": "127.0.0.1:0", setting: f"127.0.0.1:{port}"}
    try:
        done = await syncd("run", env=env_for(world, **ports))
    finally:
        taken.close()

    assert done.code == 2, done.describe()
    assert done.err.splitlines()[-1] == (
        f"syncd run: {named}: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "choose an address this host can listen on (or free the port)"
    )
    assert "Traceback" not in done.text


@pytest.mark.slow
async def test_a_ledger_that_is_another_database_or_from_a_newer_syncd_is_left_as_it_is(
    world: World,
) -> None:
    """SYNCD_STATE pointed at a source's SQLite file would have had syncd's tables, every
    address, mode 0600 and a lock written into and beside it; a ledger a newer syncd
    migrated raised a RuntimeError."""
    foreign, newer = world.root / "warehouse.db", world.root / "newer.db"
    for path, version in ((foreign, 0), (newer, 99)):
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE people (Email TEXT)")
            db.execute(f"PRAGMA user_version = {version}")
        db.close()
        path.chmod(0o644)
    before = {path: path.read_bytes() for path in (foreign, newer)}

    other, downgraded = await asyncio.gather(
        syncd("run", env=env_for(world, SYNCD_STATE=str(foreign))),
        syncd("run", env=env_for(world, SYNCD_STATE=str(newer))),
    )

    assert other.code == 2, other.describe()
    assert other.err.splitlines() == [
        f"syncd run: SYNCD_STATE: {foreign} is another database, not a syncd ledger (it holds "
        "tables of its own); point SYNCD_STATE at a file of syncd's own"
    ]
    assert foreign.read_bytes() == before[foreign]
    assert stat.S_IMODE(foreign.stat().st_mode) == 0o644
    assert not foreign.with_name("warehouse.db.lock").exists()
    assert downgraded.code == 1, downgraded.describe()
    assert downgraded.err.splitlines()[-1] == (
        f"syncd run: ledger {newer} was written by a newer syncd (schema 99; this one knows "
        f"up to {SCHEMA_VERSION}): run that version or a newer one"
    )
    assert "Traceback" not in other.err + downgraded.err
