"""Custom field definitions and the key's scopes."""

from __future__ import annotations

from aiohttp import web

from syncd.emulator import rules
from syncd.emulator.auth import bearer_key, scopes_of
from syncd.emulator.handlers.common import json_object, read_json
from syncd.emulator.responses import error_response, json_response
from syncd.emulator.services import SERVICES
from syncd.emulator.validation import InvalidRequestError
from syncd.emulator.views import field_view, reserved_fields_view

routes = web.RouteTableDef()


@routes.get("/v3/marketing/field_definitions")
async def field_definitions(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    self_url = f"{services.base_url(request)}/v3/marketing/field_definitions"
    return json_response(
        {
            "custom_fields": [field_view(f) for f in services.store.custom_fields.values()],
            "reserved_fields": reserved_fields_view(),
            "_metadata": {"self": self_url},
        }
    )


@routes.post("/v3/marketing/field_definitions")
async def create_field_definition(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = json_object(await read_json(request))
    name, field_type = body.get("name"), body.get("field_type")
    if not isinstance(name, str):
        raise InvalidRequestError("name is required", field="name")
    if not isinstance(field_type, str):
        raise InvalidRequestError("field_type is required", field="field_type")
    created = services.store.add_custom_field(name, field_type)
    self_url = f"{services.base_url(request)}/v3/marketing/field_definitions/{created.id}"
    return json_response({**field_view(created), "_metadata": {"self": self_url}})


@routes.delete("/v3/marketing/field_definitions/{custom_field_id}")
async def delete_field_definition(request: web.Request) -> web.Response:
    """204; 404 for an id that is not a custom field (reserved fields cannot be deleted)."""
    deleted = request.app[SERVICES].store.delete_custom_field(request.match_info["custom_field_id"])
    if not deleted:
        return error_response(404, rules.MSG_FIELD_NOT_FOUND)
    return web.Response(status=204)


@routes.get("/v3/scopes")
async def scopes(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    key = bearer_key(request.headers.get("Authorization")) or ""
    return json_response({"scopes": sorted(scopes_of(key, services.api_keys) or ())})
