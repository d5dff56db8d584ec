"""Requests that reach no route: under `/v1/` they are answered as every other API error
is (`shapes.ErrorDocument`), so a client parsing the API's JSON never meets aiohttp's
plain-text `405: Method Not Allowed`. Pages and the probes keep aiohttp's answers."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from syncd.serving.auth import problem

API = "/v1/"


@web.middleware
async def api_route_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if not request.path.startswith(API):
            raise
        return problem(404, f"no API route {request.path}", "notFound")
    except web.HTTPMethodNotAllowed as refused:
        if not request.path.startswith(API):
            raise
        allowed = ", ".join(sorted(refused.allowed_methods))
        response = problem(
            405,
            f"{request.method} is not allowed on {request.path}; use {allowed}",
            "methodNotAllowed",
        )
        response.headers["Allow"] = allowed
        return response
