"""Answers shaped as SendGrid's spec allows them, though syncd's emulator gives others
(over real HTTP, against a server that answers just that)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from syncd.errors import SendGridUnavailable
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


async def test_a_search_answered_200_without_a_result_is_not_taken_for_nobody_found() -> None:
    # SendGrid answers 404 when it finds nobody; read as "nobody", a 200 that says nothing
    # would confirm removals that may not have happened.
    async def empty(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({})

    app = web.Application()
    app.router.add_post(SEARCH_PATH, empty)
    async with answering(app) as client:
        with pytest.raises(SendGridUnavailable, match="200 without a result object"):
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
