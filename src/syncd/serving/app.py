"""The routes: health, readiness, metrics, status JSON, status pages, on-demand runs, plans,
contacts and erasure requests.

`/healthz` answers as long as the event loop does (it touches nothing else), so a
SendGrid or database outage never gets the pod killed. `/readyz` needs the
catalog loaded and the ledger reachable. The admin application has every route;
the metrics application (SYNCD_METRICS_LISTEN) only /metrics, /healthz and
/readyz, and never takes a token. Every JSON answer passes the scrubber.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from syncd import __version__
from syncd.errors import SyncdError
from syncd.ledger import Ledger
from syncd.logs import get_logger, scrub_data
from syncd.metrics import Metrics
from syncd.reconciling.forgetting import ForgetRefused, ForgetReport, ForgetRequest
from syncd.scheduling import Scheduler, Suspended, UnknownDestination, history_shape
from syncd.serving.audits import post_audit
from syncd.serving.auth import FORGET_REFUSED, AdminGate, problem, rebinding_guard
from syncd.serving.contacts import Explainer, get_contact
from syncd.serving.listening import MAX_BODY_BYTES
from syncd.serving.pages import add_pages
from syncd.serving.plans import Planner, post_plans
from syncd.serving.unrouted import api_route_errors
from syncd.shapes import SCHEMA_VERSION, RunHistory

log = get_logger("syncd.serving")

Readiness = Callable[[], Awaitable[str | None]]
"""Returns why the process is not ready, or None when it is."""
Forget = Callable[[ForgetRequest], Awaitable[ForgetReport]]
"""Carries an erasure request out between runs of the destinations it touches."""

SCHEDULER = web.AppKey("scheduler", Scheduler)
METRICS = web.AppKey("metrics", Metrics)
READY: web.AppKey[Readiness] = web.AppKey("ready")
GATE = web.AppKey("gate", AdminGate)
FORGET: web.AppKey[Forget] = web.AppKey("forget")
FORGET_FIELDS = frozenset({"email", "destination", "deleteInSendgrid", "undo"})
PLANNER = web.AppKey("planner", Planner)
EXPLAINER = web.AppKey("explainer", Explainer)
LEDGER: web.AppKey[Ledger] = web.AppKey("ledger")
LEDGER_ID = web.AppKey("ledger_id", str)
DEFAULT_RUNS = 20
MAX_RUNS = 1000


def answer(body: Any, status: int = 200) -> web.Response:
    """A JSON answer: statuses carry error texts, which may quote a secret or an address."""
    return web.json_response(scrub_data(body), status=status)


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    why_not = await request.app[READY]()
    if why_not:
        return answer({"status": "not ready", "reason": why_not}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    body = await asyncio.to_thread(generate_latest, request.app[METRICS].registry)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


async def destinations(request: web.Request) -> web.Response:
    return answer(request.app[SCHEDULER].statuses().wire())


async def destination(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    try:
        return answer(request.app[SCHEDULER].status(name).wire())
    except UnknownDestination:
        return problem(404, f"no destination named {name!r}")


async def runs(request: web.Request) -> web.Response:
    """The destination's kept runs, newest first: `?limit=N` (default 20)."""
    name = request.match_info["name"]
    limit = request.query.get("limit", str(DEFAULT_RUNS))
    if not (limit.isascii() and limit.isdigit()) or not 1 <= int(limit) <= MAX_RUNS:
        return problem(400, f"limit must be a whole number from 1 to {MAX_RUNS}")
    records = await asyncio.to_thread(request.app[LEDGER].runs, name, int(limit))
    # A destination whose file was deleted keeps its runs, as `syncd history` without a
    # daemon shows them.
    if not records and name not in request.app[SCHEDULER].workers:
        return problem(404, f"no destination named {name!r}")
    history = RunHistory(destination=name, runs=[history_shape(r) for r in records])
    return answer(history.wire())


async def trigger(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    allow = request.query.get("allowRemovals", "false").lower() in ("1", "true", "yes")
    refused = await request.app[GATE].refusal(request, removals=allow)
    if refused is not None:
        log.warning("sync.refused", destination=name, allow_removals=allow, status=refused.status)
        return refused
    try:
        request_id = request.app[SCHEDULER].trigger(name, allow_removals=allow)
    except UnknownDestination:
        return problem(404, f"no destination named {name!r}")
    except Suspended:
        return problem(
            409, f"{name} is suspended (spec.suspend: true); resume it first", "suspended"
        )
    log.info("sync.requested", destination=name, request=request_id, allow_removals=allow)
    body: dict[str, Any] = {"destination": name, "request": request_id, "allowRemovals": allow}
    # A run (or audit) under way ends first: the requested run comes after it.
    status = request.app[SCHEDULER].workers[name].status
    live = status.live
    body["inFlight"] = (
        None
        if status.in_flight is None
        else {"trigger": status.in_flight, "runId": live.run_id if live else None}
    )
    return answer(body, status=202)


async def audit(request: web.Request) -> web.Response:
    return await post_audit(request, request.app[SCHEDULER], request.app[GATE])


async def forget(request: web.Request) -> web.Response:
    """`POST /v1/forget` with {"email", "destination"?, "deleteInSendgrid", "undo"}: the
    answer says what was removed where, never the address (nor does any log line)."""
    refused = await request.app[GATE].refusal(request, always=FORGET_REFUSED)
    if refused is not None:
        log.warning("forget.refused", status=refused.status)
        return refused
    try:
        asked = _forget_request(await request.json())
    except ValueError as error:
        return answer({"error": f"the body must be a JSON object: {error}"}, status=400)
    log.info(
        "forget.requested",
        destination=asked.destination,
        delete_in_sendgrid=asked.delete_in_sendgrid,
        undo=asked.undo,
    )
    try:
        report = await request.app[FORGET](asked)
    except ForgetRefused as error:
        return answer({"error": error.message}, status=error.status)
    except SyncdError as error:  # the ledger, say: nothing or part was done; it can be re-run
        return answer({"error": error.message}, status=503)
    return answer(report.as_json())


def _forget_request(body: Any) -> ForgetRequest:
    """The request's fields, each of its type; raises ValueError naming what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("send an object")
    unknown = sorted(set(body) - FORGET_FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)}")
    email, destination = body.get("email"), body.get("destination")
    if not isinstance(email, str):
        raise ValueError("email (text) is required")
    if destination is not None and not isinstance(destination, str):
        raise ValueError("destination must be text")
    flags = {name: body.get(name, False) for name in ("deleteInSendgrid", "undo")}
    for name, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
    return ForgetRequest(email, destination, flags["deleteInSendgrid"], flags["undo"])


def build_metrics_app(registry: Metrics, ready: Readiness) -> web.Application:
    """Metrics and health only: safe to expose to Prometheus and the kubelet."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[METRICS] = registry
    app[READY] = ready
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def plans(request: web.Request) -> web.Response:
    return await post_plans(request, request.app[GATE], request.app[PLANNER])


async def contact(request: web.Request) -> web.Response:
    return await get_contact(request, request.app[GATE], request.app[EXPLAINER])


async def info(request: web.Request) -> web.Response:
    """Which syncd this is and which ledger it holds: the CLI checks it before asking."""
    return web.json_response(
        {"schemaVersion": SCHEMA_VERSION, "version": __version__, "ledger": request.app[LEDGER_ID]}
    )


def build_app(
    scheduler: Scheduler,
    registry: Metrics,
    ready: Readiness,
    *,
    gate: AdminGate,
    ledger: Ledger,
    ledger_id: str = "",
    forgetting: Forget | None = None,
    planner: Planner | None = None,
    explainer: Explainer | None = None,
) -> web.Application:
    """Every route: status for whoever reaches the port, changes for who holds the token;
    plans and contacts (with a planner, an explainer) only for who holds it, whatever the
    configuration."""
    app = build_metrics_app(registry, ready)
    app.middlewares.append(rebinding_guard(gate))
    app.middlewares.append(api_route_errors)
    app[SCHEDULER] = scheduler
    app[GATE] = gate
    app[LEDGER] = ledger
    app[LEDGER_ID] = ledger_id
    app.router.add_get("/v1/info", info)
    add_pages(app, scheduler, ledger, gate)
    app.router.add_get("/v1/destinations", destinations)
    app.router.add_get("/v1/destinations/{name}", destination)
    app.router.add_get("/v1/destinations/{name}/runs", runs)
    app.router.add_post("/v1/destinations/{name}/sync", trigger)
    app.router.add_post("/v1/destinations/{name}/audit", audit)
    if forgetting is not None:
        app[FORGET] = forgetting
        app.router.add_post("/v1/forget", forget)
    if planner is not None:
        app[PLANNER] = planner
        app.router.add_post("/v1/plans", plans)
    if explainer is not None:
        app[EXPLAINER] = explainer
        app.router.add_get("/v1/destinations/{name}/contacts/{email}", contact)
    return app
