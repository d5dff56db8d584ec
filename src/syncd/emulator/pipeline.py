"""What every `/v3/` request goes through before and after its handler.

In order: injected delay; rate limit (an injected storm, else the key's budget); injected
status; auth and scopes; a legacy account's 403; the handler; an injected connection reset.
Every answer carries the `X-RateLimit-*` headers and is logged; with `record_exchanges` it is
also kept whole.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from syncd.emulator import rules
from syncd.emulator.auth import bearer_key, refusal
from syncd.emulator.ratelimit import RateDecision
from syncd.emulator.recording import Exchange, RequestRecord
from syncd.emulator.responses import error_response, errors_response, proxy_page
from syncd.emulator.services import CONTACT_COUNT, JOB_ID, SERVICES, Services
from syncd.emulator.validation import InvalidRequestError

logger = logging.getLogger("syncd.emulator")


def endpoint_template(request: web.Request) -> str | None:
    """`"METHOD /path/{param}"` as in the spec, or None for a request no route matches."""
    match_info = request.match_info
    resource = match_info.route.resource
    if match_info.http_exception is not None or resource is None:
        return None
    return f"{request.method} {resource.canonical}"


@web.middleware
async def v3_pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/v3/"):
        return await handler(request)
    services = request.app[SERVICES]
    template = endpoint_template(request)
    loop = asyncio.get_running_loop()
    started = (services.config.wall_clock(), loop.time())
    response, fault_kind = await _answer(request, handler, services, template)
    dropped = False
    if 200 <= response.status < 300 and template is not None:
        reset = services.faults.take("reset_after_apply", template, loop.time())
        if reset is not None and request.transport is not None:
            fault_kind, dropped = "reset_after_apply", True
            request.transport.abort()
    await _remember(request, services, template, response, dropped, fault_kind, started)
    return response


async def _answer(
    request: web.Request, handler: Handler, services: Services, template: str | None
) -> tuple[web.StreamResponse, str | None]:
    faults, loop = services.faults, asyncio.get_running_loop()
    known = template or f"{request.method} {request.path}"
    delay = faults.take("delay", known, loop.time())
    if delay is not None:
        await asyncio.sleep(delay.rule.effective_seconds)
    decision, fault_kind = _rate_decision(request, services, known)
    response: web.StreamResponse
    if not decision.allowed:
        response = error_response(429, rules.MSG_TOO_MANY_REQUESTS)
    elif template is None:
        response = _no_route(request)
    elif (status_fault := faults.take("status", known, loop.time())) is not None:
        fault_kind = "status"
        status = status_fault.rule.status
        response = (
            proxy_page(status)
            if status_fault.rule.page
            else error_response(status, f"{rules.MSG_INJECTED}: {status}")
        )
    elif refused := refusal(request.headers.get("Authorization"), template, services.api_keys):
        response = error_response(*refused)
    elif services.behaviour.legacy_account and request.path.startswith(rules.MARKETING_PATH_PREFIX):
        # An account without the new Marketing Campaigns gets what a key without the scope
        # gets (sendgrid-nodejs#957, airbytehq/airbyte#5163); its scopes still look right.
        response = error_response(403, rules.MSG_FORBIDDEN)
    else:
        response = await _handle(request, handler)
    if delay is not None:
        fault_kind = fault_kind or "delay"
    response.headers.update(decision.headers(services.behaviour.rate_limit_header_case))
    return response, fault_kind


def _rate_decision(
    request: web.Request, services: Services, template: str
) -> tuple[RateDecision, str | None]:
    loop_now = asyncio.get_running_loop().time()
    storm = services.faults.take("rate_limit_storm", template, loop_now)
    if storm is not None:
        ends_at = storm.ends_at()
        ahead = ends_at - loop_now if ends_at is not None else storm.rule.effective_seconds
        reset_at = services.config.wall_clock() + ahead + storm.rule.reset_offset
        return services.limiter.storm(template, reset_at), "rate_limit_storm"
    key = bearer_key(request.headers.get("Authorization")) or ""
    return services.limiter.take(key, template), None


async def _handle(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except InvalidRequestError as invalid:
        return errors_response(invalid.status, invalid.errors)
    except web.HTTPRequestEntityTooLarge:
        size = request.content_length or rules.MAX_READ_BYTES
        return error_response(rules.BODY_TOO_LARGE_STATUS, rules.body_too_large_message(size))
    except Exception:
        logger.exception("emulator handler failed")
        return error_response(500, rules.MSG_INTERNAL)


def _no_route(request: web.Request) -> web.Response:
    exception = request.match_info.http_exception
    status = exception.status if exception is not None else 404
    return error_response(status, f"no such endpoint: {request.method} {request.path}")


async def _remember(
    request: web.Request,
    services: Services,
    template: str | None,
    response: web.StreamResponse,
    dropped: bool,
    fault_kind: str | None,
    started: tuple[float, float],
) -> None:
    status = None if dropped else response.status
    record = RequestRecord(
        method=request.method,
        template=template or f"{request.method} {request.path}",
        path=request.path,
        status=status,
        time=started[0],
        loop_time=started[1],
        contact_count=request.get(CONTACT_COUNT),
        job_id=request.get(JOB_ID),
        fault=fault_kind,
    )
    services.requests.append(record)
    logger.info(
        "%s %s -> %s%s%s",
        record.method,
        record.path,
        "dropped" if dropped else status,
        f" ({record.contact_count} contacts)" if record.contact_count is not None else "",
        f" [fault: {fault_kind}]" if fault_kind else "",
    )
    if services.config.record_exchanges:
        body = response.body if isinstance(response, web.Response) else None
        services.exchanges.append(
            Exchange(
                method=request.method,
                path=request.path,
                query=tuple(request.query.items()),
                headers=dict(request.headers),
                body=await _body(request),
                template=record.template,
                status=status,
                response_headers={} if dropped else dict(response.headers),
                response_body=None if dropped or not isinstance(body, bytes) else body,
            )
        )


async def _body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except (web.HTTPRequestEntityTooLarge, ConnectionError):
        return b""
