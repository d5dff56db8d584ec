"""Answers shaped as SendGrid's spec allows them, though syncd's emulator gives others
(over real HTTP, against a server that answers just that)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from syncd.errors import SendGridRejected, SendGridUnavailable
from syncd.sendgrid import SendGridClient
from syncd.sendgrid.searching import SEARCH_PATH
from tests.sendgrid.link_server import sendgrid_http

LIST_ID = "1a2b3c4d-0000-4000-8000-000000000000"


@asynccontextmanager
async def answering(app: web.Application) -> AsyncIterator[SendGridClient]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            yield SendGridClient(sendgrid_http(session, str(server.make_url("")).rstrip("/")))
    finally:
        await server.close()


@pytest.mark.parametrize(
    ("status", "body", "content_type", "says"),
    [
        (200, "{}", "application/json", "200 without a result object"),
        (200, '{"result": "oops"}', "application/json", "200 without a result object"),
        (200, "<html>Bad gateway</html>", "text/html", "200 without a result object"),
        (200, "", "application/json", "200 without a result object"),
        (404, "<html>Not found</html>", "text/html", "404 without its JSON error"),
    ],
)
async def test_a_search_answer_that_is_not_sendgrids_is_not_taken_for_nobody_found(
    status: int, body: str, content_type: str, says: str
) -> None:
    # SendGrid answers 404 with its errors document when it finds nobody; read as "nobody",
    # an answer that says nothing (a proxy's page) would confirm removals never made.
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=status, text=body, content_type=content_type)

    app = web.Application()
    app.router.add_post(SEARCH_PATH, answer)
    async with answering(app) as client:
        with pytest.raises(SendGridUnavailable, match=says):
            await client.lookup(["ann@example.com"])


async def test_a_list_deleted_with_a_204_has_no_job_to_follow() -> None:
    # The spec allows a 204 without a body beside the 200 with a `job_id`.
    async def deleted(request: web.Request) -> web.Response:
        assert request.query["delete_contacts"] == "true"
        return web.Response(status=204)

    app = web.Application()
    app.router.add_delete("/v3/marketing/lists/{id}", deleted)
    async with answering(app) as client:
        assert await client.delete_list_and_contacts(LIST_ID) is None


async def test_a_redirected_api_call_is_not_followed_and_its_body_goes_nowhere_else() -> None:
    # aiohttp drops the key on a redirect to another host, but not the body: contacts.
    elsewhere: list[bytes] = []

    async def redirect(request: web.Request) -> web.Response:
        await request.read()
        raise web.HTTPTemporaryRedirect(location=str(request.url.with_path("/elsewhere")))

    async def collect(request: web.Request) -> web.Response:
        elsewhere.append(await request.read())
        return web.json_response({"result": {}})

    app = web.Application()
    app.router.add_post(SEARCH_PATH, redirect)
    app.router.add_post("/elsewhere", collect)
    async with answering(app) as client:
        with pytest.raises(SendGridRejected, match=r"answered a redirect \(307\)"):
            await client.lookup(["ann@example.com"])
    assert elsewhere == []
