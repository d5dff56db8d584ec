"""Links SendGrid hands out (a job's errors file) are untrusted: checked before they are
fetched, never followed elsewhere, and read only up to a size (over real HTTP)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import aiohttp
import orjson
import pytest
from aiohttp import web

from syncd.sendgrid import SendGridClient, replies
from tests.sendgrid.link_server import LinkServer, link_server, sendgrid_http

ERRORS = b"email,error\nann@example.com,invalid email\n"


@pytest.fixture
async def server() -> AsyncIterator[LinkServer]:
    async def errors(_: web.Request) -> web.Response:
        return web.Response(body=ERRORS, content_type="text/csv")

    async def moved(_: web.Request) -> web.Response:
        raise web.HTTPFound("/errors.csv")

    async with link_server({"/errors.csv": errors, "/moved": moved}) as serving:
        yield serving


def client(session: aiohttp.ClientSession, base: str) -> SendGridClient:
    return SendGridClient(sendgrid_http(session, base))


async def test_an_errors_file_is_read_but_a_redirect_is_not_followed(
    server: LinkServer,
) -> None:
    base = server.base
    async with aiohttp.ClientSession() as session:
        listed = await client(session, base).job_errors(f"{base}/errors.csv")
        assert listed is not None
        assert listed.rejected == {"ann@example.com": "invalid email"}
        assert await client(session, base).job_errors(f"{base}/moved") is None
    assert server.paths == ["/errors.csv", "/moved"]  # the redirect's target was not asked for


async def test_an_answer_past_the_size_limit_is_not_read(
    server: LinkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = server.base
    monkeypatch.setattr(replies, "MAX_ANSWER_BYTES", len(ERRORS) - 1)
    async with aiohttp.ClientSession() as session:
        assert await client(session, base).job_errors(f"{base}/errors.csv") is None
    monkeypatch.setattr(replies, "MAX_ANSWER_BYTES", len(ERRORS))
    async with aiohttp.ClientSession() as session:
        assert await client(session, base).job_errors(f"{base}/errors.csv") is not None


async def test_a_large_json_answer_is_parsed_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    many = {"result": [{"id": f"list-{n}", "name": "x" * 40} for n in range(30_000)]}
    body = orjson.dumps(many)
    assert len(body) > replies.PARSED_ON_LOOP_BYTES

    async def lists(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    threads: list[bool] = []
    parse = replies.decoded

    def watched(raw: bytes) -> object:
        threads.append(threading.current_thread() is threading.main_thread())
        return parse(raw)

    monkeypatch.setattr(replies, "decoded", watched)
    async with (
        link_server({"/v3/marketing/lists": lists}) as serving,
        aiohttp.ClientSession() as session,
    ):
        reply = await sendgrid_http(session, serving.base).call(
            "GET", "GET /v3/marketing/lists", "/v3/marketing/lists"
        )
    assert reply.data == many
    assert threads == [False]  # parsed once, not on the loop's thread
