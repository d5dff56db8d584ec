"""`syncd emulator` on the command line: flags, seed file, start-up time, signals."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from syncd.emulator import ALL_SCOPES, RateBudget
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
job_delay: 0.5
faults:
  - kind: status
    template: GET /v3/marketing/lists/{{id}}
    status: 502
    times: 1
"""


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_flags_build_the_config() -> None:
    args = parse(
        "--list", f"{LIST_ID}=newsletter",
        "--list", "other",
        "--field", "orders:Number",
        "--api-key", "SG.all",
        "--api-key", "SG.reader=marketing.read",
        "--job-delay", "2.5",
        "--rate-limit", "10/1",
        "--endpoint-rate-limit", "PUT /v3/marketing/contacts=3/2",
    )  # fmt: skip
    config = config_from_args(args)
    assert [(seed.id, seed.name) for seed in config.lists] == [
        (LIST_ID, "newsletter"),
        (None, "other"),
    ]
    assert [(seed.name, seed.field_type) for seed in config.custom_fields] == [("orders", "Number")]
    assert config.api_keys == {"SG.all": ALL_SCOPES, "SG.reader": frozenset({"marketing.read"})}
    assert config.job_delay == 2.5
    assert config.rate_limit == RateBudget(limit=10, window=1)
    assert config.budget_for("PUT /v3/marketing/contacts") == RateBudget(limit=3, window=2)


def test_flags_add_to_the_seed_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    config = config_from_args(parse("--seed", str(seed), "--list", "more", "--job-delay", "0"))
    assert [found.name for found in config.lists] == ["newsletter", "more"]
    assert config.job_delay == 0
    assert [rule.kind for rule in config.faults] == ["status"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--fault", "{not json"],
        ["--fault", '{"kind": "lightning"}'],
        ["--field", "orders"],
        ["--field", "orders:Boolean"],
        ["--rate-limit", "lots"],
        ["--list", "not-a-uuid=name"],
        ["--seed", "/nonexistent/seed.yaml"],
        ["--endpoint-rate-limit", "GET /v3/nowhere=1/1"],
    ],
)
def test_bad_arguments_exit_with_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert run(parser.parse_args(argv)) == 2
    assert capsys.readouterr().err.startswith("syncd emulator: ")


@dataclass(frozen=True)
class Served:
    url: str
    startup: float  # seconds from spawning the process to its "listening" line
    process: asyncio.subprocess.Process


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """`python -m syncd.emulator` on a free port; stopped with SIGTERM unless a test stops it."""
    seed = tmp_path / "seed.yaml"
    seed.write_text(SEED)
    fault = '{"kind": "status", "template": "GET /v3/scopes", "status": 503, "times": 1}'
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "syncd.emulator", "--port", "0", "--seed", str(seed),
        "--api-key", "SG.from-the-flag", "--fault", fault,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        async with asyncio.timeout(10):
            line = (await process.stdout.readline()).decode()
        assert line.startswith("syncd emulator listening on http://127.0.0.1:"), line
        yield Served(url=line.split()[-1], startup=time.monotonic() - started, process=process)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            _, errors = await process.communicate()
        assert process.returncode == 0, errors.decode()


async def test_the_command_serves_within_two_seconds_with_its_seed_and_faults(
    served: Served,
) -> None:
    assert served.startup < 2.0
    async with aiohttp.ClientSession(base_url=served.url) as session:
        headers = {"Authorization": "Bearer SG.from-the-seed"}
        async with session.get("/v3/scopes", headers=headers) as response:
            assert response.status == 503
        async with session.get("/v3/scopes", headers=headers) as response:
            assert await response.json() == {"scopes": ["marketing.read"]}
        async with session.get(f"/v3/marketing/lists/{LIST_ID}", headers=headers) as response:
            assert response.status == 502
        headers = {"Authorization": "Bearer SG.from-the-flag"}
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
