"""`POST /v1/destinations/{name}/audit`: an audit by the daemon, between the destination's
runs, answered with its report (`syncd schema --audit`) once done.

Token rules as for `.../sync`: with SYNCD_ADMIN_TOKEN set, the token is needed; `heal`,
`prune` and `allowRemovals` change the list, so they need a valid token in every
configuration (the host token without SYNCD_ADMIN_TOKEN), like `allowRemovals` on a sync.
The example addresses are masked unless the caller holds a valid token (personal data).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from syncd.logs import get_logger, scrub_data
from syncd.reconciling.auditing import AuditRequest
from syncd.scheduling import Scheduler, Suspended, UnknownDestination
from syncd.serving.auth import AdminGate, problem

log = get_logger("syncd.serving")
CHANGES_REFUSED = (
    "heal, prune and allowRemovals need a valid token: set SYNCD_ADMIN_TOKEN for the daemon "
    "and send it as Authorization: Bearer <token>, or run `syncd audit NAME --heal` on the "
    "daemon's host"
)


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() in ("1", "true", "yes")


async def post_audit(request: web.Request, scheduler: Scheduler, gate: AdminGate) -> web.Response:
    name = request.match_info["name"]
    ask = AuditRequest(
        heal=_flag(request, "heal"),
        prune=_flag(request, "prune"),
        allow_removals=_flag(request, "allowRemovals"),
        reason="manual",
    )
    changes = ask.heal or ask.prune or ask.allow_removals
    refused = await gate.refusal(request, always=CHANGES_REFUSED if changes else None)
    if refused is not None:
        log.warning("audit.refused", destination=name, status=refused.status)
        return refused
    try:
        answer = scheduler.audit(name, ask)
    except UnknownDestination:
        return problem(404, f"no destination named {name!r}")
    except Suspended:
        return problem(
            409, f"{name} is suspended (spec.suspend: true); resume it first", "suspended"
        )
    log.info("audit.requested", destination=name, heal=ask.heal, prune=ask.prune)
    try:
        report = await asyncio.shield(answer)
    except asyncio.CancelledError:
        if answer.cancelled():  # the daemon stopped before the audit could run
            return problem(503, "the daemon is stopping; ask again after its restart")
        raise
    shown = "Authorization" in request.headers and await gate.personal_data(request) is None
    if not shown:
        report = report.masked()
    # Scrubbed as every answer is: an error may quote a secret or an address.
    return web.json_response(scrub_data(report.wire(), addresses=not shown))
