"""A request body SendGrid refused, and what its answer says about the culprits.

SendGrid validates some requests up front and answers 4xx for the whole request
(`PUT /v3/marketing/contacts`: "202 ... or an HTTP 4XX error containing validation
errors"). Its errors may name an element of the body (`contacts[3].custom_fields.e2_N`,
`emails[7]`) or nothing at all (`field: null`, e.g. "invalid custom field ids supplied -
e9_T"). A client must never send a refused body again unchanged: it drops the elements
named, or, when nothing is named, splits the body until the culprits stand alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from syncd.errors import SendGridUnavailable

# Statuses that refuse a body for what it holds; 401/403/404 are about the key or the list.
BODY_REFUSALS = (400, 413, 422)
# `contacts[3].email`, or `contacts.3.email` (the spec does not fix the path's syntax).
_ELEMENT = re.compile(r"^(?P<array>[A-Za-z_]+)(?:\[(?P<index>\d+)\]|\.(?P<dotted>\d+)(?=\.|$))")
# The parts of a request that are not its array of elements: refusing one of them, no
# split of the array can help (the list does not exist, say).
_REQUEST_PARTS = ("list_ids",)
_MAX_MESSAGE = 300

Target = Literal["elements", "whole", "other"]
"""What a refusal points at: named elements of the body's array, the body as a whole
(nothing named, or the array itself: split it), or another part of the request."""


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str


@dataclass(frozen=True)
class Refusal:
    status: int
    errors: tuple[FieldError, ...]

    def target(self, array: str) -> Target:
        """Whether the errors name elements of `array`, the whole body, or another part of
        the request. A field named otherwise (`email`, `first_name`: the spec types it as
        any string) is taken to concern some element: the body is split until it is found,
        never given up on whole."""
        if self.status == 413 or not self.errors:
            return "whole"
        fields = [error.field for error in self.errors]
        if any(_element(field, array) is not None for field in fields):
            return "elements"
        if any(field and field.split(".")[0].split("[")[0] in _REQUEST_PARTS for field in fields):
            return "other"
        return "whole"

    def elements(self, array: str, size: int) -> dict[int, str]:
        """Index in `array` → SendGrid's reasons for it, for the indexes within `size`."""
        named: dict[int, list[str]] = {}
        for error in self.errors:
            index = _element(error.field, array)
            if index is not None and index < size:
                named.setdefault(index, []).append(_reason(error))
        return {index: "; ".join(reasons) for index, reasons in named.items()}

    def summary(self) -> str:
        """The refusal in one line, for a reason shown to people."""
        text = "; ".join(_reason(error) for error in self.errors) or f"HTTP {self.status}"
        return text[:_MAX_MESSAGE]


def refusal(status: int, data: Any) -> Refusal:
    """Read SendGrid's error body (`{"errors": [{"field", "message"}]}`) tolerantly; some
    operations' specs give one error object instead (`{"field", "message"}`: a list
    removal's 400).

    A 400 or 422 without either, or with no error in them (`{"errors": []}`, a gateway's
    `{"message": "Bad Request"}`), is not SendGrid's validation: a proxy's page, say. It
    says nothing of the body, and read as a refusal of it, every contact of the body would be
    split out and charged: it is a temporary failure instead, nothing charged. (A 413 is
    the body's size, whoever answers it.)"""
    entries = data.get("errors") if isinstance(data, Mapping) else None
    if entries is None and isinstance(data, Mapping) and {"field", "message"} <= data.keys():
        entries = [data]
    named = isinstance(entries, list) and any(isinstance(e, Mapping) for e in entries)
    if not named and status in (400, 422):
        raise SendGridUnavailable(
            f"SendGrid answered {status} without its error body (a proxy's page?): nothing "
            "is charged to the contacts; tried again later"
        )
    errors: list[FieldError] = []
    for entry in entries if isinstance(entries, Sequence) and not isinstance(entries, str) else ():
        if not isinstance(entry, Mapping):
            continue
        field = entry.get("field")
        message = entry.get("message")
        errors.append(
            FieldError(
                str(field) if field is not None else None,
                str(message) if message is not None else "refused",
            )
        )
    return Refusal(status, tuple(errors))


def _element(field: str | None, array: str) -> int | None:
    if not field:
        return None
    match = _ELEMENT.match(field)
    if match is None or match["array"] != array:
        return None
    return int(match["index"] or match["dotted"])


def _reason(error: FieldError) -> str:
    where = error.field if error.field not in (None, "", "null") else None
    message = error.message.strip()[:_MAX_MESSAGE]
    if where is None:
        return message
    # `contacts[3].custom_fields.e2_N` → `custom_fields.e2_N`: the index means nothing to people.
    match = _ELEMENT.match(where)
    detail = where[match.end() :].lstrip(".") if match else ""
    return f"{detail}: {message}" if detail else message
