"""A loopback HTTP server standing in for the hosts SendGrid's links point at (export
files, a job's errors file) and its answers, and a `SendGridHttp` that reaches it: real
HTTP, every request recorded with the credentials it carried."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from syncd.clock import SYSTEM_CLOCK
from syncd.metrics import Metrics
from syncd.sendgrid import RateGates, SendGridHttp

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class LinkServer:
    base: str
    """`http://127.0.0.1:PORT`, no trailing slash."""
    asked: list[tuple[str, str | None]] = field(default_factory=list)
    """(path, Authorization header) of every request, in order."""

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.asked]


@asynccontextmanager
async def link_server(routes: Mapping[str, Handler]) -> AsyncIterator[LinkServer]:
    """Serves `routes` (path → GET handler) on loopback until the block ends."""
    server = LinkServer("")

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        server.asked.append((request.path, request.headers.get("Authorization")))
        return await handler(request)

    app = web.Application(middlewares=[record])
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    server.base = str(test_server.make_url("")).rstrip("/")
    try:
        yield server
    finally:
        await test_server.close()


def sendgrid_http(session: aiohttp.ClientSession, base: str) -> SendGridHttp:
    """The API client's HTTP layer pointed at `base`, with a key it must never leak."""
    gate = RateGates(SYSTEM_CLOCK).for_key("key")
    return SendGridHttp(
        session, base, lambda: "SG.secret", gate, Metrics(), key_hint="env SENDGRID_API_KEY"
    )
