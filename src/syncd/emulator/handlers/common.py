"""Helpers the API handlers share."""

from __future__ import annotations

import orjson
from aiohttp import web

from syncd.emulator.validation import InvalidRequestError


async def read_json(request: web.Request, *, required: bool = True) -> object:
    """The request's JSON body; InvalidRequestError (400) when it is not JSON."""
    raw = await request.read()
    return parse_json(raw, required=required)


def parse_json(raw: bytes, *, required: bool = True) -> object:
    if not raw.strip():
        if required:
            raise InvalidRequestError("a JSON request body is required")
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequestError("the request body is not valid JSON") from None


def json_object(body: object) -> dict[str, object]:
    if not isinstance(body, dict):
        raise InvalidRequestError("the request body must be a JSON object")
    return body


def string_list(value: object, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidRequestError("must be an array of strings", field=field)
    return list(value)


def comma_separated(request: web.Request, name: str) -> list[str] | None:
    """A query parameter given once as `a,b,c`; None when absent or given several times."""
    values = request.query.getall(name, [])
    if len(values) != 1:
        return None
    return [item.strip() for item in values[0].split(",") if item.strip()]
