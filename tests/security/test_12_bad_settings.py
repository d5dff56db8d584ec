"""Threat 12 (low): bad settings and a busy port ended in a Python traceback.

Now each ends in one line naming the setting, and exit status 2 (1 for `syncd plan`,
whose 2 means "changes" and passes a CI check).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.emulator import Emulator
from tests.reconciling.world import World, people
from tests.security.common import env_for, port_in_use, syncd


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
    ],
)
async def test_a_setting_refused_ends_in_one_line_naming_it(
    world: World, setting: str, value: str, says: str
) -> None:
    for command, status in ((("run",), 2), (("validate",), 2), (("plan", "members"), 1)):
        done = await syncd(*command, env=env_for(world, **{setting: value}))
        assert done.code == status, done.describe()
        assert done.out == ""
        (line,) = done.err.splitlines()
        assert line.startswith(says), line
        assert "Traceback" not in done.err
    assert world.emulator.requests == []


@pytest.mark.parametrize("setting", ["SYNCD_LISTEN", "SYNCD_METRICS_LISTEN"])
async def test_a_port_in_use_ends_in_one_line_naming_the_setting(
    world: World, setting: str
) -> None:
    taken, port = port_in_use()
    try:
        done = await syncd("run", env=env_for(world, **{setting: f"127.0.0.1:{port}"}))
    finally:
        taken.close()

    assert done.code == 2, done.describe()
    assert done.err.splitlines()[-1] == (
        f"syncd run: {setting}: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "choose an address this host can listen on (or free the port)"
    )
    assert "Traceback" not in done.text
