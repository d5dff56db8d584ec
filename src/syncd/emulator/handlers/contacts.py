"""Contacts: upsert, delete, search by email, count."""

from __future__ import annotations

import asyncio

from aiohttp import web

from syncd.emulator import rules
from syncd.emulator.contact_checks import upfront_errors
from syncd.emulator.handlers.common import json_object, parse_json, read_json, string_list
from syncd.emulator.jobs import DeleteWork, UpsertWork
from syncd.emulator.profiles import Behaviour
from syncd.emulator.responses import error_response, json_response
from syncd.emulator.services import CONTACT_COUNT, JOB_ID, SERVICES
from syncd.emulator.validation import (
    InvalidRequestError,
    is_valid_email,
    normalize_email,
    parse_upsert,
)
from syncd.emulator.views import contact_view

routes = web.RouteTableDef()


@routes.put("/v3/marketing/contacts")
async def upsert_contacts(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    raw = await request.read()
    if len(raw) > rules.MAX_UPSERT_BYTES:
        raise InvalidRequestError(
            rules.body_too_large_message(len(raw)), status=rules.BODY_TOO_LARGE_STATUS
        )
    upsert = parse_upsert(parse_json(raw))
    request[CONTACT_COUNT] = len(upsert.contacts)
    unknown = [list_id for list_id in upsert.list_ids if list_id not in services.store.lists]
    if unknown:
        return error_response(404, f"list ids not found: {','.join(unknown)}", field="list_ids")
    _refuse_injected(request, upsert.contacts)
    behaviour = services.behaviour
    if behaviour.bad_values == "upfront":
        field_types = services.store.field_types()
        errors = upfront_errors(upsert.contacts, field_types, behaviour.custom_value_rules)
        if errors:
            raise InvalidRequestError.many(errors)
    job = services.jobs.submit(
        "upsert",
        "PUT /v3/marketing/contacts",
        UpsertWork(list_ids=upsert.list_ids, contacts=upsert.contacts),
    )
    request[JOB_ID] = job.id
    return json_response({"job_id": job.id}, status=202)


def _refuse_injected(request: web.Request, contacts: list[dict[str, object]]) -> None:
    """A `refuse_contacts` fault: the request is refused whole if it carries a victim."""
    faults = request.app[SERVICES].faults
    now = asyncio.get_running_loop().time()
    for fault in faults.live("refuse_contacts", "PUT /v3/marketing/contacts", now):
        victims = {normalize_email(email) for email in fault.rule.emails}
        named = [
            (f"contacts[{i}].email", fault.rule.reason)
            for i, contact in enumerate(contacts)
            if isinstance(contact.get("email"), str)
            and normalize_email(str(contact["email"])) in victims
        ]
        if named:
            faults.use(fault, now)
            raise InvalidRequestError.many(
                [(None, fault.rule.reason)] if fault.rule.unnamed else named
            )


@routes.delete("/v3/marketing/contacts")
async def delete_contacts(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    ids = request.query.getall("ids", [])
    delete_all = request.query.getall("delete_all_contacts", [])
    if len(ids) + len(delete_all) != 1:
        raise InvalidRequestError(rules.MSG_DELETE_PARAMS)
    if delete_all:
        if delete_all[0] != "true":
            raise InvalidRequestError(rules.MSG_DELETE_PARAMS, field="delete_all_contacts")
        work = DeleteWork(contact_ids=None)
    else:
        contact_ids = [item.strip() for item in ids[0].split(",") if item.strip()]
        if not contact_ids:
            raise InvalidRequestError(rules.MSG_DELETE_PARAMS, field="ids")
        work = DeleteWork(contact_ids=contact_ids)
        request[CONTACT_COUNT] = len(contact_ids)
    job = services.jobs.submit("delete", "DELETE /v3/marketing/contacts", work)
    request[JOB_ID] = job.id
    return json_response({"job_id": job.id}, status=202)


@routes.post("/v3/marketing/contacts/search/emails")
async def search_by_emails(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    body = json_object(await read_json(request))
    wanted = [email for email in string_list(body.get("emails"), "emails") if email.strip()]
    if not wanted:
        raise InvalidRequestError("at least one email is required", field="emails")
    if len(wanted) > rules.MAX_SEARCH_EMAILS:
        raise InvalidRequestError(
            f"too many emails: {len(wanted)}, the limit is {rules.MAX_SEARCH_EMAILS}",
            field="emails",
        )
    _check_searched_emails(wanted, services.behaviour)
    emails = list(dict.fromkeys(normalize_email(email) for email in wanted))
    base_url = services.base_url(request)
    result: dict[str, object] = {}
    found_any = False
    for email in emails:
        seen = services.search.find(email)
        if seen is None:
            result[email] = {"error": rules.MSG_CONTACT_NOT_FOUND}
        else:
            found_any = True
            view = contact_view(seen.contact, services.store, base_url, seen.list_ids)
            result[email] = {"contact": view}
    if not found_any:
        return error_response(404, rules.MSG_NO_CONTACTS_FOUND)
    return json_response({"result": result})


def _check_searched_emails(emails: list[str], behaviour: Behaviour) -> None:
    """Any email too long or invalid refuses the whole search (spec: ListContactByEmail);
    whether the error names it is a knob, as SendGrid's answer is undocumented."""
    limit = behaviour.search_max_email_length
    for index, raw in enumerate(emails):
        email = normalize_email(raw)
        if len(email) > limit:
            problem = f"an email is longer than {limit} characters"
        elif not is_valid_email(email):
            problem = "invalid email address"
        else:
            continue
        named = f"emails[{index}]" if behaviour.search_errors_name_email else None
        raise InvalidRequestError(problem, field=named)


@routes.get("/v3/marketing/contacts/count")
async def count_contacts(request: web.Request) -> web.Response:
    count = len(request.app[SERVICES].store.contacts)
    return json_response({"contact_count": count, "billable_count": count})


# Registered after `/contacts/count` so that "count" is not taken for an id.
@routes.get("/v3/marketing/contacts/{id}")
async def one_contact(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    found = services.store.by_id(request.match_info["id"])
    if found is None:
        return error_response(404, rules.MSG_CONTACT_NOT_FOUND)
    return json_response(contact_view(found, services.store, services.base_url(request)))
