"""Where the vendored SendGrid spec is wrong or silent: the one place that says so.

Each deviation patches the spec in memory before validation, with the reason. The vendored
files stay byte-identical to upstream. `docs/emulator.md` lists the same deviations for people;
`test_deviations.py` checks that every one is still needed by some recorded exchange.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Spec = dict[str, Any]

CONTACTS = "tsg_mc_contacts_v3.json"
LISTS = "tsg_mc_lists_v3.json"
CUSTOM_FIELDS = "tsg_mc_custom_fields_v3.json"
SCOPES = "tsg_scopes_v3.json"
ALL_SPECS = (CONTACTS, LISTS, CUSTOM_FIELDS, SCOPES)

_METHODS = ("get", "put", "post", "delete", "patch")

# SendGrid's error body, `field` possibly null.
ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                },
                "required": ["message"],
            },
        }
    },
    "required": ["errors"],
}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_BODY}}}


@dataclass(frozen=True)
class Deviation:
    name: str
    specs: tuple[str, ...]
    reason: str
    patch: Callable[[Spec], None]


def _operations(spec: Spec) -> Iterator[dict[str, Any]]:
    for item in spec["paths"].values():
        for method in _METHODS:
            if method in item:
                yield item[method]


def _allow_null_error_field(node: object) -> None:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict) and "message" in properties:
            field = properties.get("field")
            if isinstance(field, dict) and field.get("type") == "string":
                field["type"] = ["string", "null"]
        for value in node.values():
            _allow_null_error_field(value)
    elif isinstance(node, list):
        for value in node:
            _allow_null_error_field(value)


def _add_response(status: str, description: str) -> Callable[[Spec], None]:
    def patch(spec: Spec) -> None:
        for operation in _operations(spec):
            operation["responses"].setdefault(status, _error_response(description))

    return patch


def _set_schema(
    path: str, method: str, status: str, schema: dict[str, Any]
) -> Callable[[Spec], None]:
    def patch(spec: Spec) -> None:
        response = spec["paths"][path][method]["responses"][status]
        response["content"]["application/json"]["schema"] = schema

    return patch


def _needs_auth(spec: Spec) -> None:
    _add_response("401", "Unauthorized.")(spec)
    _add_response("403", "Forbidden.")(spec)


def _delete_job_id_is_a_string(spec: Spec) -> None:
    response = spec["paths"]["/v3/marketing/contacts"]["delete"]["responses"]["202"]
    response["content"]["application/json"]["schema"]["properties"]["job_id"]["type"] = "string"


def _upsert_body_too_large(spec: Spec) -> None:
    responses = spec["paths"]["/v3/marketing/contacts"]["put"]["responses"]
    responses["413"] = _error_response("The request body is over 6,000,000 bytes.")


def _no_content_has_no_body(spec: Spec) -> None:
    spec["paths"]["/v3/marketing/lists/{id}"]["delete"]["responses"]["204"].pop("content", None)


DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        name="error-field-may-be-null",
        specs=ALL_SPECS,
        reason=(
            'SendGrid sends `"field": null` in errors (the scopes spec\'s own 401 example; '
            "sendgrid-nodejs#957), but the error schemas type `field` as a string and OpenAPI "
            "3.1 ignores their `nullable: true`."
        ),
        patch=_allow_null_error_field,
    ),
    Deviation(
        name="every-endpoint-may-rate-limit",
        specs=ALL_SPECS,
        reason=(
            "Every v3 endpoint answers 429 `too many requests` when its budget is spent "
            "(SendGrid's rate limits page), but no operation lists 429."
        ),
        patch=_add_response("429", "Too many requests."),
    ),
    Deviation(
        name="malformed-requests-are-400",
        specs=ALL_SPECS,
        reason=(
            "Schema and validation errors are answered 400 with SendGrid's error body, "
            "but several operations (e.g. `GET /lists` with a bad `page_size`) list no 400."
        ),
        patch=_add_response("400", "Bad request."),
    ),
    Deviation(
        name="every-endpoint-may-fail-with-5xx",
        specs=ALL_SPECS,
        reason=(
            "Servers and gateways answer 500/502/503/504; the spec lists 500 for some "
            "operations and none for lists and custom fields. Injected faults produce them."
        ),
        patch=_add_response("5XX", "Server error."),
    ),
    Deviation(
        name="lists-and-fields-need-auth-too",
        specs=(LISTS, CUSTOM_FIELDS),
        reason=(
            "The lists and custom fields operations require a bearer key like every other "
            "(`security: BearerAuth`), but list no 401 or 403."
        ),
        patch=_needs_auth,
    ),
    Deviation(
        name="upsert-body-too-large-is-413",
        specs=(CONTACTS,),
        reason=(
            "The 6 MB upsert limit is documented (UpdateContact) but its status is not; the "
            "emulator answers 413 with SendGrid's error body."
        ),
        patch=_upsert_body_too_large,
    ),
    Deviation(
        name="delete-contacts-job-id-is-a-string",
        specs=(CONTACTS,),
        reason="`DELETE /contacts` types `job_id` as an object; it is a UUID string.",
        patch=_delete_job_id_is_a_string,
    ),
    Deviation(
        name="list-not-found-is-an-errors-object",
        specs=(LISTS,),
        reason=(
            "`GET /lists/{id}` types its 404 body as a bare array of errors; SendGrid's error "
            'body is `{"errors": [...]}` everywhere else.'
        ),
        patch=_set_schema("/v3/marketing/lists/{id}", "get", "404", ERROR_BODY),
    ),
    Deviation(
        name="list-removal-400-is-an-errors-object",
        specs=(LISTS,),
        reason=(
            "`DELETE /lists/{id}/contacts` types its 400 body as a single error object; "
            'SendGrid\'s error body is `{"errors": [...]}`.'
        ),
        patch=_set_schema("/v3/marketing/lists/{id}/contacts", "delete", "400", ERROR_BODY),
    ),
    Deviation(
        name="list-deletion-204-has-no-body",
        specs=(LISTS,),
        reason=(
            "`DELETE /lists/{id}` gives its 204 a JSON string body; a 204 has no body "
            "(RFC 9110, section 15.3.5)."
        ),
        patch=_no_content_has_no_body,
    ),
)


def apply_deviations(name: str, spec: Spec, *, leave_out: str | None = None) -> Spec:
    """Patches one spec (by file name) in place with every deviation but `leave_out`."""
    for deviation in DEVIATIONS:
        if name in deviation.specs and deviation.name != leave_out:
            deviation.patch(spec)
    return spec
