"""The admin server: health, readiness, metrics, status JSON and on-demand runs.

`/healthz` answers as long as the event loop does (it touches nothing else), so a
SendGrid or database outage never gets the pod killed. `/readyz` needs the
catalog loaded and the ledger reachable. POST routes require the bearer token
when `SYNCD_ADMIN_TOKEN` is set.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from syncd.logs import get_logger
from syncd.metrics import Metrics
from syncd.scheduling import Scheduler, Suspended, UnknownDestination

log = get_logger("syncd.serving")

Readiness = Callable[[], Awaitable[str | None]]
"""Returns why the process is not ready, or None when it is."""

SCHEDULER = web.AppKey("scheduler", Scheduler)
METRICS = web.AppKey("metrics", Metrics)
READY: web.AppKey[Readiness] = web.AppKey("ready")
TOKEN = web.AppKey("token", str)


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    why_not = await request.app[READY]()
    if why_not:
        return web.json_response({"status": "not ready", "reason": why_not}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    body = await asyncio.to_thread(generate_latest, request.app[METRICS].registry)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


async def destinations(request: web.Request) -> web.Response:
    return web.json_response(request.app[SCHEDULER].statuses())


async def destination(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    try:
        return web.json_response(request.app[SCHEDULER].status(name))
    except UnknownDestination:
        return _problem(404, f"no destination named {name!r}")


async def trigger(request: web.Request) -> web.Response:
    token = request.app[TOKEN]
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return _problem(401, "a valid bearer token (SYNCD_ADMIN_TOKEN) is required")
    name = request.match_info["name"]
    allow = request.query.get("allowRemovals", "false").lower() in ("1", "true", "yes")
    try:
        request_id = request.app[SCHEDULER].trigger(name, allow_removals=allow)
    except UnknownDestination:
        return _problem(404, f"no destination named {name!r}")
    except Suspended:
        return _problem(409, f"{name} is suspended (spec.suspend: true); resume it first")
    log.info("sync.requested", destination=name, request=request_id, allow_removals=allow)
    body: dict[str, Any] = {"destination": name, "request": request_id, "allowRemovals": allow}
    return web.json_response(body, status=202)


def build_app(
    scheduler: Scheduler,
    registry: Metrics,
    ready: Readiness,
    *,
    token: str | None,
) -> web.Application:
    app = web.Application()
    app[SCHEDULER] = scheduler
    app[METRICS] = registry
    app[READY] = ready
    app[TOKEN] = token or ""
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/v1/destinations", destinations)
    app.router.add_get("/v1/destinations/{name}", destination)
    app.router.add_post("/v1/destinations/{name}/sync", trigger)
    return app


async def serve(app: web.Application, listen: str) -> web.AppRunner:
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port))
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
