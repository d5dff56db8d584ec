"""The admin API under `/_emulator/`: what a separate process (`make run`, the benchmark)
needs: look inside, edit by hand, change the knobs, download the files the API links to.

Tests in the same process use the `Emulator` object instead (docs/emulator.md).

It needs no SendGrid key: the emulator is for local use and binds 127.0.0.1 by default.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from syncd.emulator.errors_files import CONTENT_TYPES, errors_file
from syncd.emulator.export_files import send_file
from syncd.emulator.exports import export_view
from syncd.emulator.hand_edits import HAND_EDITS, apply_hand_edits
from syncd.emulator.handlers.common import json_object, parse_json
from syncd.emulator.responses import error_response, json_response
from syncd.emulator.services import SERVICES, Services
from syncd.emulator.validation import InvalidRequestError
from syncd.emulator.views import field_view, job_view

routes = web.RouteTableDef()


def state_view(services: Services, base_url: str) -> dict[str, object]:
    store = services.store
    return {
        "contacts": [store.contact(email) for email in store.contacts],
        "lists": [
            {
                "id": found.id,
                "name": found.name,
                "contact_count": len(found.members),
                "members": sorted(found.members),
            }
            for found in store.lists.values()
        ],
        "custom_fields": [field_view(custom) for custom in store.custom_fields.values()],
        "jobs": [
            {**job_view(job, base_url), "template": job.template}
            for job in services.jobs.jobs.values()
        ],
        "pending_jobs": services.jobs.pending,
        "exports": [export_view(e, base_url) for e in services.exports.exports.values()],
        "faults": services.faults.describe(),
        "behaviour": services.behaviour.knobs(),
    }


@routes.get("/_emulator/state")
async def state(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    return json_response(state_view(services, services.base_url(request)))


@routes.get("/_emulator/requests")
async def requests(request: web.Request) -> web.Response:
    return json_response([record.as_json() for record in request.app[SERVICES].requests])


@routes.post("/_emulator/hand-edits")
async def hand_edits(request: web.Request) -> web.Response:
    """Changes made at once, as in SendGrid's UI (see `hand_edits`); 200 once all applied."""
    services = request.app[SERVICES]
    try:
        edits = HAND_EDITS.validate_python(parse_json(await request.read()))
        apply_hand_edits(services.store, edits, services.behaviour.custom_value_rules)
    except ValidationError as invalid:
        return _validation_error(invalid)
    except InvalidRequestError as invalid:
        return error_response(400, invalid.message, field=invalid.field)
    return json_response({"applied": len(edits)})


@routes.patch("/_emulator/behaviour")
async def change_behaviour(request: web.Request) -> web.Response:
    """Changes the knobs given; `{"profile": ...}` starts again from that profile's defaults."""
    services = request.app[SERVICES]
    try:
        services.behaviour = services.behaviour.changed(
            json_object(parse_json(await request.read()))
        )
    except ValidationError as invalid:
        return _validation_error(invalid)
    except InvalidRequestError as invalid:
        return error_response(400, invalid.message)
    return json_response(services.behaviour.knobs())


@routes.get("/_emulator/files/errors/{job_id}.{file_format}")
async def errors_file_download(request: web.Request) -> web.Response:
    job = request.app[SERVICES].jobs.jobs.get(request.match_info["job_id"])
    layout = job.errors_file if job is not None else None
    if job is None or layout is None or layout.file_format != request.match_info["file_format"]:
        return error_response(404, "no errors file for this job")
    if request.app[SERVICES].behaviour.errors_file_expired:
        return error_response(403, "Request has expired")
    content_type = CONTENT_TYPES[layout.file_format]
    body = errors_file(layout, job.rejections)
    return web.Response(body=body, content_type=content_type, charset="utf-8")


@routes.get(r"/_emulator/files/exports/{export_id}/{number:\d+}.{file_type}")
async def export_download(request: web.Request) -> web.StreamResponse:
    export = request.app[SERVICES].exports.exports.get(request.match_info["export_id"])
    number = int(request.match_info["number"])
    if (
        export is None
        or export.status != "ready"
        or not 1 <= number <= len(export.files)
        or request.match_info["file_type"] != export.layout.file_type
    ):
        return error_response(404, "no such export file")
    return await send_file(request, export.files[number - 1], export.layout)


def _validation_error(invalid: ValidationError) -> web.Response:
    errors = [
        {"field": ".".join(str(part) for part in error["loc"]) or None, "message": error["msg"]}
        for error in invalid.errors()
    ]
    return json_response({"errors": errors}, status=400)
