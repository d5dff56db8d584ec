"""Threat 10 (low): the admin server held by idle clients, lax about its token.

Unfinished requests never timed out (a few thousand idle connections exhausted the file
descriptors and `/healthz` failed); a token without `Bearer ` was accepted; a
non-UTF-8 Authorization header gave a 500 with a traceback; failed attempts were not
limited.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import aiohttp
import pytest

from syncd.emulator import Emulator
from syncd.serving.listening import HEAD_TIMEOUT, MAX_CONNECTIONS
from tests.daemon.process import Daemon, free_port
from tests.reconciling.world import World, people
from tests.security.common import env_for

TOKEN = "CANARY-admin-token-55aa"
IDLE = MAX_CONNECTIONS + 44


async def drained(reader: asyncio.StreamReader) -> bool:
    """True once the server has closed the connection (a refused one after its 503)."""
    try:
        while await reader.read(4096):
            pass
    except ConnectionResetError:
        pass
    return True


async def raw_request(port: int, head: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    try:
        return await asyncio.wait_for(reader.read(65536), 5)
    finally:
        writer.close()


def counter(metrics: str, name: str, **labels: str) -> float:
    shown = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    found = re.search(rf"^{name}\{{{shown}\}} (\S+)$", metrics, re.M)
    return float(found.group(1)) if found else 0.0


@pytest.mark.slow
async def test_idle_clients_cannot_hold_the_server_and_bad_tokens_get_nowhere(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    world.destination({"vip": world.csv("vip", people(0, 5))}, name="members")
    metrics_port = free_port()
    daemon = Daemon(
        env_for(world, SYNCD_ADMIN_TOKEN=TOKEN, SYNCD_METRICS_LISTEN=f"127.0.0.1:{metrics_port}")
    )
    await daemon.start()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for _ in range(IDLE):
            idle.append(await asyncio.open_connection("127.0.0.1", daemon.port))
        started = time.monotonic()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{metrics_port}/healthz") as reply:
                assert reply.status == 200  # its own listener: unaffected
            health_within = None
            while time.monotonic() - started < HEAD_TIMEOUT + 5:
                try:
                    async with http.get(f"{daemon.url}/healthz") as reply:
                        if reply.status == 200:
                            health_within = time.monotonic() - started
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        closed = await asyncio.wait_for(
            asyncio.gather(*(drained(reader) for reader, _ in idle)), HEAD_TIMEOUT + 5
        )

        not_text = await raw_request(
            daemon.port,
            b"POST /v1/destinations/members/sync HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
            b"Authorization: Bearer \xc3\x28\xff\r\n\r\n",
        )
        bare = await raw_request(
            daemon.port,
            b"POST /v1/destinations/members/sync HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
            b"Authorization: " + TOKEN.encode() + b"\r\n\r\n",
        )
        _, scraped = await daemon.get("/metrics")
    finally:
        for _, writer in idle:
            writer.close()
        assert await daemon.stop() == 0, daemon.output()

    assert health_within is not None
    assert health_within < HEAD_TIMEOUT + 3
    assert all(closed)
    assert not_text.startswith(b"HTTP/1.1 400 ")
    assert bare.startswith(b"HTTP/1.1 401 ")
    assert "Traceback" not in daemon.output()
    assert TOKEN not in daemon.output()
    assert counter(scraped, "syncd_admin_auth_failures_total", reason="malformed") == 1
    assert counter(scraped, "syncd_admin_auth_failures_total", reason="invalid") == 1
    assert counter(scraped, "syncd_http_connections_refused_total", listener="admin") >= 44
