"""However many lookups a run has under way, one client has at most `SEARCHES_AT_ONCE`
searches in flight (over real HTTP, against a server that counts them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from syncd.sendgrid import SendGridClient
from syncd.sendgrid.searching import SEARCH_LIMIT, SEARCH_PATH, SEARCHES_AT_ONCE
from tests.sendgrid.link_server import sendgrid_http

pytestmark = pytest.mark.looptime


class SlowSearch:
    """Answers each search a second later (nothing found), counting those in flight."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0
        self.answered = 0

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(1)
        finally:
            self.in_flight -= 1
        self.answered += 1
        return web.json_response({"result": {}})


@asynccontextmanager
async def searching(server: SlowSearch) -> AsyncIterator[SendGridClient]:
    app = web.Application()
    app.router.add_post(SEARCH_PATH, server.handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            base = str(test_server.make_url("")).rstrip("/")
            yield SendGridClient(sendgrid_http(session, base))
    finally:
        await test_server.close()


def addresses(who: str, count: int) -> list[str]:
    return [f"{who}{n}@example.com" for n in range(count)]


async def test_lookups_under_way_together_share_the_clients_searches_in_flight() -> None:
    server = SlowSearch()
    async with searching(server) as client:
        pages = [addresses(who, 10 * SEARCH_LIMIT) for who in ("ann", "bob", "cat")]
        found = await asyncio.gather(*(client.lookup(page) for page in pages))

    assert server.answered == 30
    assert server.most == SEARCHES_AT_ONCE  # not one lookup's four each
    assert all(not lookup.found and not lookup.unsearchable for lookup in found)


async def test_a_lookup_alone_still_has_its_searches_in_flight_together() -> None:
    server = SlowSearch()
    async with searching(server) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await client.lookup(addresses("ann", 8 * SEARCH_LIMIT))
        took = loop.time() - started

    assert server.most == SEARCHES_AT_ONCE
    assert took == pytest.approx(2, abs=0.1)  # two rounds of four, not eight in a row
