"""Links SendGrid hands out (a job's errors file) are untrusted: checked before they are
fetched, never followed elsewhere, and read only up to a size (over real HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from syncd.clock import SYSTEM_CLOCK
from syncd.metrics import Metrics
from syncd.sendgrid import RateGates, SendGridClient, SendGridHttp
from syncd.sendgrid import http as http_module

ERRORS = b"email,error\nann@example.com,invalid email\n"


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, list[str]]]:
    asked: list[str] = []

    async def errors(request: web.Request) -> web.Response:
        asked.append(request.path)
        return web.Response(body=ERRORS, content_type="text/csv")

    async def moved(request: web.Request) -> web.Response:
        asked.append(request.path)
        raise web.HTTPFound("/errors.csv")

    app = web.Application()
    app.router.add_get("/errors.csv", errors)
    app.router.add_get("/moved", moved)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield test_server, asked
    await test_server.close()


def client(session: aiohttp.ClientSession, base: str) -> SendGridClient:
    gate = RateGates(SYSTEM_CLOCK).for_key("key")
    http = SendGridHttp(session, base, lambda: "SG.secret", gate, Metrics(), key_hint="env K")
    return SendGridClient(http)


async def test_an_errors_file_is_read_but_a_redirect_is_not_followed(
    server: tuple[TestServer, list[str]],
) -> None:
    test_server, asked = server
    base = str(test_server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        listed = await client(session, base).job_errors(f"{base}/errors.csv")
        assert listed is not None
        assert listed.rejected == {"ann@example.com": "invalid email"}
        assert await client(session, base).job_errors(f"{base}/moved") is None
    assert asked == ["/errors.csv", "/moved"]  # the redirect's target was not asked for


async def test_an_answer_past_the_size_limit_is_not_read(
    server: tuple[TestServer, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    test_server, _ = server
    base = str(test_server.make_url("")).rstrip("/")
    monkeypatch.setattr(http_module, "MAX_ANSWER_BYTES", len(ERRORS) - 1)
    async with aiohttp.ClientSession() as session:
        assert await client(session, base).job_errors(f"{base}/errors.csv") is None
    monkeypatch.setattr(http_module, "MAX_ANSWER_BYTES", len(ERRORS))
    async with aiohttp.ClientSession() as session:
        assert await client(session, base).job_errors(f"{base}/errors.csv") is not None
