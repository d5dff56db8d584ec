"""Lists: all, one, create, delete, count, remove contacts from a list."""

from __future__ import annotations

from aiohttp import web

from syncd.emulator import rules
from syncd.emulator.handlers.common import comma_separated, json_object, read_json
from syncd.emulator.jobs import DeleteWork, ListRemovalWork
from syncd.emulator.responses import error_response, json_response
from syncd.emulator.services import CONTACT_COUNT, JOB_ID, SERVICES
from syncd.emulator.validation import InvalidRequestError
from syncd.emulator.views import list_view

routes = web.RouteTableDef()


@routes.get("/v3/marketing/lists")
async def all_lists(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    page_size = _int_param(request, "page_size", rules.DEFAULT_LISTS_PAGE_SIZE)
    if not 1 <= page_size <= rules.MAX_LISTS_PAGE_SIZE:
        raise InvalidRequestError(
            f"page_size must be between 1 and {rules.MAX_LISTS_PAGE_SIZE}", field="page_size"
        )
    # Page tokens are opaque to clients; here they are the offset of the page's first list.
    offset = _int_param(request, "page_token", 0)
    lists = list(services.store.lists.values())
    base_url = services.base_url(request)
    page_url = f"{base_url}/v3/marketing/lists?page_size={page_size}&page_token="
    metadata: dict[str, object] = {"self": f"{page_url}{offset}", "count": len(lists)}
    if offset + page_size < len(lists):
        metadata["next"] = f"{page_url}{offset + page_size}"
    if offset > 0:
        metadata["prev"] = f"{page_url}{max(0, offset - page_size)}"
    page = [list_view(found, base_url) for found in lists[offset : offset + page_size]]
    return json_response({"result": page, "_metadata": metadata})


@routes.post("/v3/marketing/lists")
async def create_list(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = json_object(await read_json(request))
    name = body.get("name")
    if not isinstance(name, str):
        raise InvalidRequestError("name is required", field="name")
    created = services.store.add_list(name)
    return json_response(list_view(created, services.base_url(request)), status=201)


@routes.get("/v3/marketing/lists/{id}")
async def one_list(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    found = services.store.lists.get(request.match_info["id"])
    if found is None:
        return error_response(404, rules.MSG_LIST_NOT_FOUND)
    return json_response(list_view(found, services.base_url(request)))


@routes.delete("/v3/marketing/lists/{id}")
async def delete_list(request: web.Request) -> web.Response:
    """204; with `delete_contacts=true`, 200 and the job deleting the list's contacts
    (spec: DeleteMarketingList)."""
    services = request.app[SERVICES]
    flag = request.query.get("delete_contacts", "false")
    if flag not in ("true", "false"):
        raise InvalidRequestError("delete_contacts must be true or false", field="delete_contacts")
    members = services.store.delete_list(request.match_info["id"])
    if members is None:
        return error_response(404, rules.MSG_LIST_NOT_FOUND)
    if flag == "false":
        return web.Response(status=204)
    request[CONTACT_COUNT] = len(members)
    job = services.jobs.submit(
        "delete", "DELETE /v3/marketing/lists/{id}", DeleteWork(contact_ids=members)
    )
    request[JOB_ID] = job.id
    return json_response({"job_id": job.id})


@routes.get("/v3/marketing/lists/{id}/contacts/count")
async def list_count(request: web.Request) -> web.Response:
    found = request.app[SERVICES].store.lists.get(request.match_info["id"])
    if found is None:
        return error_response(404, rules.MSG_LIST_NOT_FOUND)
    count = len(found.members)
    return json_response({"contact_count": count, "billable_count": count})


@routes.delete("/v3/marketing/lists/{id}/contacts")
async def remove_from_list(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    list_id = request.match_info["id"]
    if list_id not in services.store.lists:
        return error_response(404, rules.MSG_LIST_NOT_FOUND)
    contact_ids = comma_separated(request, "contact_ids")
    if not contact_ids:
        raise InvalidRequestError("contact_ids is required", field="contact_ids")
    if any(services.store.by_id(contact_id) is None for contact_id in contact_ids):
        # The spec's 404: "one or more contact IDs do not exist"; nothing is removed.
        return error_response(404, rules.MSG_LIST_NOT_FOUND)
    request[CONTACT_COUNT] = len(contact_ids)
    job = services.jobs.submit(
        rules.LIST_REMOVAL_JOB_TYPE,
        "DELETE /v3/marketing/lists/{id}/contacts",
        ListRemovalWork(list_id=list_id, contact_ids=contact_ids),
    )
    request[JOB_ID] = job.id
    return json_response({"job_id": job.id}, status=202)


def _int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidRequestError(f"{name} must be an integer", field=name) from None
