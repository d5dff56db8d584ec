"""Job status and contact exports."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web

from syncd.emulator import rules
from syncd.emulator.export_files import FileLayout
from syncd.emulator.exports import Export, expiry, export_view
from syncd.emulator.handlers.common import json_object, read_json, string_list
from syncd.emulator.jobs import ListRemovalWork
from syncd.emulator.responses import error_response, json_response
from syncd.emulator.services import SERVICES
from syncd.emulator.store import iso_timestamp
from syncd.emulator.validation import InvalidRequestError
from syncd.emulator.views import job_view

routes = web.RouteTableDef()


@routes.get("/v3/marketing/contacts/imports/{id}")
async def job_status(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    job = services.jobs.jobs.get(request.match_info["id"])
    if job is None or (
        # Whether list-removal jobs can be polled is undocumented: strict says they cannot.
        isinstance(job.work, ListRemovalWork) and not services.behaviour.removal_jobs_pollable
    ):
        return error_response(404, rules.MSG_JOB_NOT_FOUND)
    return json_response(job_view(job, services.base_url(request)))


@routes.post("/v3/marketing/contacts/exports")
async def create_export(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = json_object(await read_json(request, required=False))
    list_ids = string_list(body.get("list_ids", []), "list_ids")
    if string_list(body.get("segment_ids", []), "segment_ids"):
        raise InvalidRequestError("the emulator has no segments", field="segment_ids")
    file_type = body.get("file_type", "csv")
    if file_type not in ("csv", "json"):
        raise InvalidRequestError("file_type must be csv or json", field="file_type")
    max_file_size = body.get("max_file_size", rules.DEFAULT_EXPORT_FILE_MB)
    if not isinstance(max_file_size, int) or isinstance(max_file_size, bool) or max_file_size < 1:
        raise InvalidRequestError("max_file_size must be a positive integer", field="max_file_size")
    unknown = [list_id for list_id in list_ids if list_id not in services.store.lists]
    if unknown:
        return error_response(404, f"list ids not found: {','.join(unknown)}", field="list_ids")
    behaviour, base_url = services.behaviour, services.base_url(request)
    now = asyncio.get_running_loop().time()
    template = "POST /v3/marketing/contacts/exports"
    failed = services.faults.take("job_failed", template, now)
    created = services.config.wall_clock()
    export = Export(
        id=str(uuid.uuid4()),
        list_ids=list_ids,
        layout=FileLayout(
            file_type="json" if file_type == "json" else "csv",
            max_file_bytes=max_file_size * rules.EXPORT_MB,
            rows_per_file=behaviour.export_file_rows,
            gzip=behaviour.export_gzip,
            header_case=behaviour.export_header_case,
        ),
        base_url=base_url,
        delay=services.config.export_delay,
        created_at=iso_timestamp(created),
        expires_at=expiry(created),
        failure=failed.rule.reason if failed else None,
        stuck=services.faults.take("export_stuck", template, now) is not None,
        cut_short=services.faults.take("export_cut_short", template, now) is not None,
    )
    services.exports.submit(export)
    self_url = f"{base_url}/v3/marketing/contacts/exports/{export.id}"
    return json_response({"id": export.id, "_metadata": {"self": self_url}}, status=202)


@routes.get("/v3/marketing/contacts/exports/{id}")
async def export_status(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    export = services.exports.exports.get(request.match_info["id"])
    if export is None:
        return error_response(404, rules.MSG_EXPORT_NOT_FOUND)
    return json_response(export_view(export, services.base_url(request)))
