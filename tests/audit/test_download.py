"""Export downloads: streamed, without the API key (even on the API's own origin), capped."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from syncd.clock import SYSTEM_CLOCK
from syncd.errors import SendGridUnavailable
from syncd.metrics import Metrics
from syncd.sendgrid import RateGates, SendGridHttp
from syncd.sendgrid.exporting import Exports

BODY = b"EMAIL\nann@example.com\n" * 1000


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, list[str | None]]]:
    seen: list[str | None] = []

    async def file(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.Response(body=BODY)

    async def moved(_: web.Request) -> web.Response:
        raise web.HTTPFound("https://elsewhere.example.com/x")

    async def ready_without_urls(request: web.Request) -> web.Response:
        urls = {"e1": None, "e2": "https://x.example.com/1", "e3": ["u"] * 10_001}
        return web.json_response({"status": "ready", "urls": urls[request.match_info["id"]]})

    app = web.Application()
    app.router.add_get("/file", file)
    app.router.add_get("/v3/marketing/contacts/exports/{id}", ready_without_urls)
    app.router.add_get("/moved", moved)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield test_server, seen
    await test_server.close()


async def exports(session: aiohttp.ClientSession, base: str) -> Exports:
    gate = RateGates(SYSTEM_CLOCK).for_key("key")
    http = SendGridHttp(
        session, base, lambda: "SG.secret", gate, Metrics(), key_hint="env SENDGRID_API_KEY"
    )
    return Exports(http)


async def test_a_download_streams_the_file_and_never_sends_the_key(
    server: tuple[TestServer, list[str | None]],
) -> None:
    test_server, seen = server
    base = str(test_server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        sink = io.BytesIO()
        size = await (await exports(session, base)).download(f"{base}/file", sink, budget=10**9)
    assert (size, sink.getvalue()) == (len(BODY), BODY)
    assert seen == [None]


async def test_a_download_over_the_budget_fails(
    server: tuple[TestServer, list[str | None]],
) -> None:
    test_server, _ = server
    base = str(test_server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SendGridUnavailable, match="SYNCD_AUDIT_MAX_DOWNLOAD_BYTES"):
            await (await exports(session, base)).download(f"{base}/file", io.BytesIO(), budget=100)


async def test_redirects_are_not_followed_and_urls_never_shown(
    server: tuple[TestServer, list[str | None]],
) -> None:
    test_server, _ = server
    base = str(test_server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SendGridUnavailable) as failed:
            await (await exports(session, base)).download(f"{base}/moved", io.BytesIO(), budget=9)
    assert "302" in failed.value.message
    assert base not in failed.value.message


async def test_a_ready_export_without_usable_urls_counts_as_failed_not_as_pending(
    server: tuple[TestServer, list[str | None]],
) -> None:
    # Polled again it would say the same: read as failed, so the next audit starts another
    # export rather than reading this one again until it expires.
    test_server, _ = server
    base = str(test_server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        client = await exports(session, base)
        for export_id in ("e1", "e2", "e3"):
            state = await client.state(export_id)
            assert state is not None
            assert (state.status, state.urls) == ("failure", ())
            assert "without a usable list of file URLs" in state.message
