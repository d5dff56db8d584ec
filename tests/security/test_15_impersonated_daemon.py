"""Threat 15: a local process listening at SYNCD_LISTEN passes for the daemon and is sent
the admin token. The identity a daemon answers at `/v1/info` is a hash of the ledger's
path, which anybody can compute; while another process held the SQLite ledger's lock
(a `syncd sync`, or a daemon starting), `syncd sync` and `syncd forget` asked whatever
answered at SYNCD_LISTEN and sent it their token."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from syncd.emulator import Emulator
from syncd.ledger import ledger_identity, open_ledger
from tests.reconciling.world import World, people
from tests.security.common import env_for

TOKEN = "admin-token-nobody-else-may-see"


class Impostor:
    """Answers `/v1/info` as the daemon of `state` would; records what else it is sent."""

    def __init__(self, state: str) -> None:
        self.identity = ledger_identity(state)
        self.seen: list[tuple[str, str]] = []
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def info(self, request: web.Request) -> web.Response:
        return web.json_response({"ledger": self.identity})

    async def anything(self, request: web.Request) -> web.Response:
        self.seen.append((request.path, request.headers.get("Authorization", "")))
        return web.json_response({"request": 1, "inFlight": None}, status=202)

    async def __aenter__(self) -> Impostor:
        app = web.Application()
        app.router.add_get("/v1/info", self.info)
        app.router.add_route("*", "/{tail:.*}", self.anything)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


@pytest.fixture
async def held(tmp_path: Path, emulator: Emulator) -> AsyncIterator[World]:
    """A destination whose SQLite ledger another process holds, announcing no address."""
    w = World(tmp_path, emulator)
    w.ledger.close()
    w.destination({"vip": w.csv("vip", people(0, 3))})
    ledger = open_ledger(str(tmp_path / "daemon-state.db"))  # holds the lock
    try:
        yield w
    finally:
        ledger.close()


@pytest.mark.parametrize("command", [["sync", "members"], ["forget", "person.1@example.com"]])
async def test_a_listener_at_syncd_listen_is_never_sent_the_token(
    held: World, command: list[str]
) -> None:
    state = str(held.root / "daemon-state.db")
    async with Impostor(state) as impostor:
        env = env_for(held, SYNCD_LISTEN=f"127.0.0.1:{impostor.port}", SYNCD_ADMIN_TOKEN=TOKEN)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "syncd", *command, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            out, err = await asyncio.wait_for(process.communicate(), 30)
        except TimeoutError:  # following a run the impostor never ends
            process.kill()
            out, err = await process.communicate()

    said = (out + err).decode()
    assert impostor.seen == [], impostor.seen
    assert TOKEN not in said
    assert process.returncode != 0, said
    assert "another process holds the ledger" in said
