"""Export downloads: streamed, without the API key (even on the API's own origin), capped."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from syncd.errors import SendGridUnavailable
from syncd.sendgrid.exporting import ExportGone, Exports
from tests.sendgrid.link_server import LinkServer, link_server, sendgrid_http

BODY = b"EMAIL\nann@example.com\n" * 1000


@pytest.fixture
async def server() -> AsyncIterator[LinkServer]:
    async def file(_: web.Request) -> web.Response:
        return web.Response(body=BODY)

    async def moved(_: web.Request) -> web.Response:
        raise web.HTTPFound("https://elsewhere.example.com/x")

    async def ready_without_urls(request: web.Request) -> web.Response:
        urls = {"e1": None, "e2": "https://x.example.com/1", "e3": ["u"] * 10_001}
        return web.json_response({"status": "ready", "urls": urls[request.match_info["id"]]})

    routes = {
        "/file": file,
        "/v3/marketing/contacts/exports/{id}": ready_without_urls,
        "/moved": moved,
    }
    async with link_server(routes) as serving:
        yield serving


def exports(session: aiohttp.ClientSession, base: str) -> Exports:
    return Exports(sendgrid_http(session, base))


async def test_a_download_streams_the_file_and_never_sends_the_key(
    server: LinkServer,
) -> None:
    base = server.base
    async with aiohttp.ClientSession() as session:
        sink = io.BytesIO()
        size = await exports(session, base).download(f"{base}/file", sink, budget=10**9)
    assert (size, sink.getvalue()) == (len(BODY), BODY)
    assert server.asked == [("/file", None)]


async def test_a_download_over_the_budget_fails(
    server: LinkServer,
) -> None:
    base = server.base
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SendGridUnavailable, match="SYNCD_AUDIT_MAX_DOWNLOAD_BYTES"):
            await exports(session, base).download(f"{base}/file", io.BytesIO(), budget=100)


async def test_redirects_are_not_followed_and_urls_never_shown(
    server: LinkServer,
) -> None:
    base = server.base
    async with aiohttp.ClientSession() as session:
        with pytest.raises(SendGridUnavailable) as failed:
            await exports(session, base).download(f"{base}/moved", io.BytesIO(), budget=9)
    assert "302" in failed.value.message
    assert base not in failed.value.message


async def test_a_ready_export_without_usable_urls_counts_as_failed_not_as_pending(
    server: LinkServer,
) -> None:
    # Polled again it would say the same: read as failed, so the next audit starts another
    # export rather than reading this one again until it expires.
    base = server.base
    async with aiohttp.ClientSession() as session:
        client = exports(session, base)
        for export_id in ("e1", "e2", "e3"):
            state = await client.state(export_id)
            assert state is not None
            assert (state.status, state.urls) == ("failure", ())
            assert "without a usable list of file URLs" in state.message


@pytest.mark.looptime
async def test_a_file_that_trickles_in_is_given_up_once_slower_than_the_floor() -> None:
    # Each read came within the timeout, a byte a second: the audit (and the runs of the
    # destination behind it) waited for ever.
    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(100_000):
            await response.write(b"x")
            await asyncio.sleep(1)
        return response

    async with link_server({"/drip": drip}) as serving, aiohttp.ClientSession() as session:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(SendGridUnavailable, match="slower than 32 KiB/s"):
            await exports(session, serving.base).download(
                f"{serving.base}/drip", io.BytesIO(), budget=10**9
            )
        assert loop.time() - started < 2 * 60 + 5  # the request timeout's grace, then given up


async def test_an_unreadable_answer_to_an_export_poll_is_a_temporary_failure_saying_so() -> None:
    # It was taken for SendGrid no longer knowing the export ("expired"): a misleading
    # reason, and another export started for a proxy's error page.
    async def proxy_page(_: web.Request) -> web.Response:
        return web.Response(text="<html>upstream hiccup</html>", content_type="text/html")

    routes = {"/v3/marketing/contacts/exports/{id}": proxy_page}
    async with link_server(routes) as serving, aiohttp.ClientSession() as session:
        with pytest.raises(SendGridUnavailable) as failed:
            await exports(session, serving.base).state("e1")
    assert not isinstance(failed.value, ExportGone)
    assert "answer about the audit's export was unreadable" in failed.value.message


@pytest.mark.looptime
async def test_the_wait_for_an_export_ends_pending_once_its_time_is_up() -> None:
    async def pending(_: web.Request) -> web.Response:
        return web.json_response({"status": "pending"})

    routes = {"/v3/marketing/contacts/exports/{id}": pending}
    async with link_server(routes) as serving, aiohttp.ClientSession() as session:
        loop = asyncio.get_running_loop()
        began = loop.time()
        async with asyncio.timeout(3600):  # before the wait had a bound: for ever
            state = await exports(session, serving.base).wait(
                "e1", max_interval=30, within=600, stopping=lambda: False
            )
        assert state.status == "pending"
        assert 600 <= loop.time() - began < 601
        assert 20 < len(serving.asked) < 40  # every 30 s at most, and once at the end
