"""SendGrid-shaped responses: JSON bodies and the `{"errors": [...]}` error form."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import orjson
from aiohttp import web


def json_response(
    body: object, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(body),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error_response(status: int, message: str, *, field: str | None = None) -> web.Response:
    """`{"errors": [{"field": ..., "message": ...}]}`; `field` is null when no field is to blame."""
    return errors_response(status, [(field, message)])


def errors_response(status: int, errors: Iterable[tuple[str | None, str]]) -> web.Response:
    """SendGrid's error body with one entry per (field, message)."""
    entries = [{"field": field, "message": message} for field, message in errors]
    return json_response({"errors": entries}, status=status)


def proxy_page(status: int) -> web.Response:
    """What a proxy or load balancer in front of SendGrid answers: HTML, no error body."""
    page = f"<html><body><h1>{status}</h1><p>The request could not be handled.</p></body></html>"
    return web.Response(status=status, text=page, content_type="text/html")
