"""The operations syncd needs from SendGrid's Marketing API, and nothing else.

Answers are untrusted: every field read is checked for its type, and a request SendGrid
refuses for what its body holds comes back as a `Refusal` for the caller to isolate,
never as an exception that would leave the same body to be sent again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

from syncd.contacts import CustomField
from syncd.errors import SendGridRejected, SendGridUnavailable
from syncd.sendgrid import answers
from syncd.sendgrid.errors_file import ErrorsListed, UnreadableErrorsFile, list_errors
from syncd.sendgrid.exporting import Exports, download_problem
from syncd.sendgrid.http import SendGridHttp
from syncd.sendgrid.refusals import BODY_REFUSALS, Refusal, refusal
from syncd.sendgrid.replies import AnswerTooLarge
from syncd.sendgrid.searching import SEARCH_LIMIT, Lookup, lookup, search_gate
from syncd.sendgrid.together import at_most

LISTS = "/v3/marketing/lists"
CONTACTS = "/v3/marketing/contacts"
FIELDS = "/v3/marketing/field_definitions"

EP_SCOPES = "GET /v3/scopes"
EP_LIST = "GET /v3/marketing/lists/{id}"
EP_FIELDS = "GET /v3/marketing/field_definitions"
EP_UPSERT = "PUT /v3/marketing/contacts"
EP_JOB = "GET /v3/marketing/contacts/imports/{id}"
EP_ERRORS = "GET errors_url"
ERRORS_FILE_MISSING = (401, 403, 404, 410)
"""What an errors file's link answers once it has expired or been withdrawn (or before it is
ready, or for a moment: which, SendGrid does not say)."""
ERRORS_FILE_GONE = (301, 302, 303, 307, 308, *ERRORS_FILE_MISSING)
"""The above, and a redirect (not followed: the address it names was not checked)."""

EP_REMOVE = "DELETE /v3/marketing/lists/{id}/contacts"
EP_DELETE = "DELETE /v3/marketing/contacts"
# Lists and custom fields are created and deleted only by `syncd probe --live`.
EP_LISTS = "GET /v3/marketing/lists"
EP_CREATE_LIST = "POST /v3/marketing/lists"
EP_DELETE_LIST = "DELETE /v3/marketing/lists/{id}"
EP_CREATE_FIELD = "POST /v3/marketing/field_definitions"
EP_DELETE_FIELD = "DELETE /v3/marketing/field_definitions/{custom_field_id}"

REMOVE_LIMIT = 100
JOBS_AT_ONCE = 4
"""Open jobs whose state is asked at once (`jobs`): GETs that wait on round trips."""
TERMINAL = ("completed", "errored", "failed")
JOB_COUNTS = ("requested_count", "created_count", "updated_count", "deleted_count", "errored_count")
LISTS_PAGE = 1000
MAX_LIST_PAGES = 100

__all__ = ["REMOVE_LIMIT", "SEARCH_LIMIT", "Job", "ListInfo", "Lookup", "SendGridClient"]


class ErrorsFileMissing(SendGridUnavailable):
    """A job's errors file link answered that the file is not there (`ERRORS_FILE_MISSING`)."""


@dataclass(frozen=True)
class ListInfo:
    id: str
    name: str
    contact_count: int


@dataclass(frozen=True)
class Job:
    id: str
    status: str
    errored_count: int
    errors_url: str | None
    message: str = ""
    """What SendGrid said about a job that failed as a whole (e.g. the contact limit)."""
    counts: Mapping[str, int] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    """The counts SendGrid gave in `results` (`requested_count`, ...), as given."""
    errors_unclear: bool = False
    """`errored_count` was given but is no count (`"1"`, `-1`): errors may have happened."""

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


class SendGridClient:
    def __init__(self, http: SendGridHttp) -> None:
        self.http = http
        self.exports = Exports(http)  # the audit's reading of the real list
        self._searches = search_gate()  # every lookup's searches, wherever they come from

    async def scopes(self) -> frozenset[str]:
        reply = await self.http.call("GET", EP_SCOPES, "/v3/scopes")
        scopes = answers.json_object(reply.data, EP_SCOPES).get("scopes")
        return frozenset(str(s) for s in scopes) if isinstance(scopes, list) else frozenset()

    async def get_list(self, list_id: str) -> ListInfo:
        reply = await self.http.call("GET", EP_LIST, f"{LISTS}/{list_id}", tolerated=(404,))
        if reply.status == 404:
            raise SendGridRejected(
                f"list {list_id} does not exist in this SendGrid account: create it "
                "(Marketing > Contacts > Create list) or fix spec.sendgrid.listId",
                status=404,
            )
        return _list_info(answers.json_object(reply.data, EP_LIST), list_id)

    async def field_definitions(self) -> dict[str, CustomField]:
        reply = await self.http.call("GET", EP_FIELDS, "/v3/marketing/field_definitions")
        data = answers.json_object(reply.data, EP_FIELDS)
        fields = data.get("custom_fields")
        return {
            str(field["name"]): CustomField(str(field["id"]), str(field.get("field_type", "Text")))
            for field in (fields if isinstance(fields, list) else [])
            if isinstance(field, dict) and "name" in field and "id" in field
        }

    async def upsert(self, body: bytes) -> str | Refusal:
        """The job id, or SendGrid's refusal of this body (nothing applied)."""
        reply = await self.http.call(
            "PUT", EP_UPSERT, CONTACTS, body=body, expected=(202,), tolerated=BODY_REFUSALS
        )
        if reply.status != 202:
            return refusal(reply.status, reply.data)
        return answers.job_id(reply.data, EP_UPSERT)

    async def job(self, job_id: str) -> Job | None:
        """The job's state, or None when SendGrid does not know it (expired, lost, or a kind
        of job it does not let be polled: the spec documents polling only imports, upserts
        and deletions, and lists a 400 beside the 404 for an id it will not look up)."""
        reply = await self.http.call(
            "GET", EP_JOB, f"{CONTACTS}/imports/{job_id}", tolerated=(400, 404)
        )
        if reply.status in (400, 404):
            return None
        data = answers.json_object(reply.data, EP_JOB)
        results = data.get("results") if isinstance(data.get("results"), dict) else {}
        assert isinstance(results, dict)
        url = results.get("errors_url")
        return Job(
            id=job_id,
            status=str(data.get("status", "pending")),
            errored_count=answers.count(results, "errored_count"),
            errors_unclear="errored_count" in results
            and answers.said_count(results, "errored_count") is None,
            errors_url=url if isinstance(url, str) and url else None,
            message=answers.job_message(data),
            counts=MappingProxyType(
                {key: answers.count(results, key) for key in JOB_COUNTS if key in results}
            ),
        )

    async def jobs(self, job_ids: Sequence[str]) -> list[Job | None]:
        """The states of several jobs (`job`), in the order given, `JOBS_AT_ONCE` asked at
        once."""
        calls = [functools.partial(self.job, job_id) for job_id in job_ids]
        return await at_most(JOBS_AT_ONCE, calls)

    async def job_errors(self, errors_url: str) -> ErrorsListed | None:
        """The rejected contacts a job's errors file names (lower-cased email → reason), and
        its number of rows; None when the file is not one syncd can read: an address it does
        not fetch, a redirect (not followed), an answer over `MAX_ANSWER_BYTES`, a file past
        reading. The caller then looks the job's contacts up.

        `ErrorsFileMissing` when its link answers 401, 403, 404 or 410: SendGrid does not say
        how long it keeps the file (a signed link expires), so the caller decides how long
        to wait for it. Anything else that fails (a 5xx, the network) is temporary
        (`SendGridUnavailable`): the job stays open and the next run reads it again."""
        raw = await self.errors_file(errors_url)
        if raw is None:
            return None
        try:  # SendGrid's bytes, possibly large or compressed: read off the event loop
            return await asyncio.to_thread(list_errors, raw)
        except UnreadableErrorsFile:
            return None

    async def errors_file(self, errors_url: str) -> bytes | None:
        """A job's errors file as downloaded (its layout is undocumented); None when it is not
        one syncd fetches: an address in an answer is untrusted, and goes by the rule export
        links go by (https, or plain http on loopback when the API is there too), redirects
        not followed, the size capped. `ErrorsFileMissing` when the link answers that it is
        gone or refused."""
        if download_problem(errors_url, self.http.base_url) is not None:
            return None
        try:
            reply = await self.http.call(
                "GET", EP_ERRORS, "", url=errors_url, tolerated=ERRORS_FILE_GONE
            )
        except AnswerTooLarge:
            return None  # not one syncd reads: its contacts are looked up instead
        if reply.status in ERRORS_FILE_MISSING:
            raise ErrorsFileMissing(
                f"{EP_ERRORS}: SendGrid answered {reply.status} for a job's errors file"
            )
        return reply.raw if reply.status == 200 else None

    async def lookup(self, emails: Sequence[str]) -> Lookup:
        """Contacts whose primary email is one of `emails` (alternate-email matches are not
        theirs), and the addresses SendGrid's search refuses to look up."""
        return await lookup(self.http, emails, self._searches)

    async def remove_from_list(self, list_id: str, contact_ids: Sequence[str]) -> str | Refusal:
        """Take contacts off the list (they stay in the account); ≤ 100 ids a call. A 404
        means the list or one of the ids does not exist (any of them)."""
        assert 0 < len(contact_ids) <= REMOVE_LIMIT
        reply = await self.http.call(
            "DELETE",
            EP_REMOVE,
            f"{LISTS}/{list_id}/contacts",
            params={"contact_ids": ",".join(contact_ids)},
            expected=(202,),
            tolerated=(*BODY_REFUSALS, 404),
        )
        if reply.status != 202:
            return refusal(reply.status, reply.data)
        return answers.job_id(reply.data, EP_REMOVE)

    async def delete_contacts(self, contact_ids: Sequence[str]) -> str | Refusal:
        """Delete contacts from the account (onLeave: deleteContact); ≤ 100 ids a call."""
        assert 0 < len(contact_ids) <= REMOVE_LIMIT
        reply = await self.http.call(
            "DELETE",
            EP_DELETE,
            CONTACTS,
            params={"ids": ",".join(contact_ids)},
            expected=(202,),
            tolerated=(*BODY_REFUSALS, 404),
        )
        if reply.status != 202:
            return refusal(reply.status, reply.data)
        return answers.job_id(reply.data, EP_DELETE)

    async def find_list(self, name: str, *, page_size: int = LISTS_PAGE) -> ListInfo | None:
        """The list named exactly `name`, looked for on every page of the account's lists."""
        params = {"page_size": str(page_size)}
        for _ in range(MAX_LIST_PAGES):
            reply = await self.http.call("GET", EP_LISTS, LISTS, params=params)
            data = answers.json_object(reply.data, EP_LISTS)
            page = data.get("result")
            for entry in page if isinstance(page, list) else ():
                if isinstance(entry, dict) and entry.get("name") == name:
                    return _list_info(entry, "")
            token = answers.next_page_token(data)
            if token is None:
                return None
            params = {**params, "page_token": token}
        raise SendGridUnavailable(f"{EP_LISTS}: more than {MAX_LIST_PAGES} pages of lists")

    async def create_list(self, name: str) -> ListInfo:
        body = orjson.dumps({"name": name})
        reply = await self.http.call("POST", EP_CREATE_LIST, LISTS, body=body)
        created = _list_info(answers.json_object(reply.data, EP_CREATE_LIST), "")
        answers.path_id(created.id, EP_CREATE_LIST)
        return created

    async def delete_list(self, list_id: str) -> bool:
        """Delete a list (not its contacts); False when there is no such list."""
        path = f"{LISTS}/{list_id}"
        reply = await self.http.call("DELETE", EP_DELETE_LIST, path, tolerated=(404,))
        return reply.status != 404

    async def delete_list_and_contacts(self, list_id: str) -> str | None:
        """Delete a list and every contact on it (`delete_contacts=true`): the job deleting
        the contacts, or None when there is no such list or no job to follow (the spec
        allows a 204 without a body beside the 200 with a `job_id`)."""
        path = f"{LISTS}/{list_id}"
        params = {"delete_contacts": "true"}
        reply = await self.http.call(
            "DELETE",
            EP_DELETE_LIST,
            path,
            params=params,
            expected=(200, 202, 204),
            tolerated=(404,),
        )
        if reply.status in (204, 404):
            return None
        return answers.job_id(reply.data, EP_DELETE_LIST)

    async def create_field(self, name: str, field_type: str) -> CustomField:
        body = orjson.dumps({"name": name, "field_type": field_type})
        reply = await self.http.call("POST", EP_CREATE_FIELD, FIELDS, body=body)
        data = answers.json_object(reply.data, EP_CREATE_FIELD)
        field_id = answers.path_id(data.get("id"), EP_CREATE_FIELD)
        return CustomField(field_id, str(data.get("field_type", field_type)))

    async def delete_field(self, field_id: str) -> bool:
        """Delete a custom field definition; False when there is no such field."""
        path = f"{FIELDS}/{field_id}"
        reply = await self.http.call("DELETE", EP_DELETE_FIELD, path, tolerated=(404,))
        return reply.status != 404


def _list_info(data: dict[str, Any], list_id: str) -> ListInfo:
    name, contacts = str(data.get("name", "")), answers.count(data, "contact_count")
    return ListInfo(str(data.get("id", list_id)), name, contacts)
