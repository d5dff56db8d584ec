"""`syncd emulator` on the command line: the seed file, its flags, serving, signals."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from syncd.emulator import EmulatorConfig
from syncd.emulator.command import add_arguments, config_from_args, run

LIST_ID = "0b6f7d1e-2a3b-4c5d-8e9f-0a1b2c3d4e5f"
SEED = f"""
lists:
  - id: {LIST_ID}
    name: newsletter
custom_fields:
  - name: loyalty_tier
    field_type: Text
api_keys:
  SG.from-the-seed: [marketing.read]
  SG.writer: [marketing.read, marketing_campaigns.create, marketing_campaigns.update]
job_delay: 0.5
faults:
  - kind: status
    template: GET /v3/marketing/lists/{{id}}
    status: 502
    times: 1
  - kind: status
    template: GET /v3/scopes
    status: 503
    times: 1
"""


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_the_seed_file_builds_the_config_and_job_delay_overrides_it(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    config = config_from_args(parse("--seed", str(seed)))
    assert [(found.id, found.name) for found in config.lists] == [(LIST_ID, "newsletter")]
    assert [(found.name, found.field_type) for found in config.custom_fields] == [
        ("loyalty_tier", "Text")
    ]
    assert config.api_keys["SG.from-the-seed"] == frozenset({"marketing.read"})
    assert config.job_delay == 0.5
    assert [rule.kind for rule in config.faults] == ["status", "status"]
    assert config_from_args(parse("--seed", str(seed), "--job-delay", "0")).job_delay == 0
    assert config_from_args(parse()) == EmulatorConfig()


@pytest.mark.parametrize(
    "seed",
    [
        "faults: [{kind: lightning}]",
        "custom_fields: [{name: orders, field_type: Boolean}]",
        "lists: [{id: not-a-uuid, name: x}]",
        "rate_limit: {limit: 0}",
        "endpoint_rate_limits: {GET /v3/nowhere: {limit: 1, window: 1}}",
        "- a list, not a mapping",
        "lists: [{name: twice}, {name: twice}]",
        "contacts: [{email: not-an-email}]",
    ],
)
def test_a_bad_seed_file_exits_with_2(
    tmp_path: Path, seed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(seed)
    assert run(parse("--seed", str(path))) == 2
    err = capsys.readouterr().err
    assert err.startswith("syncd emulator: ")
    assert err.count("\n") == 1, err  # one line, as documented (no pydantic banner)


@pytest.mark.parametrize("argv", [["--seed", "/nonexistent/seed.yaml"], ["--job-delay", "-1"]])
def test_bad_arguments_exit_with_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(parse(*argv)) == 2
    assert capsys.readouterr().err.startswith("syncd emulator: ")


@dataclass(frozen=True)
class Served:
    url: str
    process: asyncio.subprocess.Process


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """`python -m syncd emulator` on a free port; stopped with SIGTERM unless a test stops it."""
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "syncd", "emulator", "--port", "0", "--seed", str(seed),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        # A deadline only so that a command that never listens fails the test instead of
        # hanging it; how fast it starts is not a pass/fail matter on a loaded machine.
        async with asyncio.timeout(30):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("syncd emulator listening on http://127.0.0.1:"), line
        yield Served(url=line.split()[-1], process=process)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            _, errors = await process.communicate()
        assert process.returncode == 0, errors.decode()


async def test_the_command_serves_with_its_seed_and_faults(served: Served) -> None:
    async with aiohttp.ClientSession(base_url=served.url) as session:
        headers = {"Authorization": "Bearer SG.from-the-seed"}
        async with session.get("/v3/scopes", headers=headers) as response:
            assert response.status == 503
        async with session.get("/v3/scopes", headers=headers) as response:
            assert await response.json() == {"scopes": ["marketing.read"]}
        async with session.get(f"/v3/marketing/lists/{LIST_ID}", headers=headers) as response:
            assert response.status == 502
        headers = {"Authorization": "Bearer SG.writer"}
        async with session.get(f"/v3/marketing/lists/{LIST_ID}", headers=headers) as response:
            assert (await response.json())["name"] == "newsletter"
        async with session.get("/_emulator/state") as response:
            state = await response.json()
        assert [found["name"] for found in state["custom_fields"]] == ["loyalty_tier"]


async def test_the_command_exits_0_on_sigint(served: Served) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{served.url}/_emulator/state") as response,
    ):
        assert response.status == 200
    served.process.send_signal(signal.SIGINT)
    async with asyncio.timeout(10):
        assert await served.process.wait() == 0
