"""The operations syncd needs from SendGrid's Marketing API, and nothing else."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from syncd.contacts import CustomField
from syncd.errors import SendGridRejected, SendGridUnavailable
from syncd.sendgrid.http import SendGridHttp

LISTS = "/v3/marketing/lists"
CONTACTS = "/v3/marketing/contacts"

EP_LIST = "GET /v3/marketing/lists/{id}"
EP_FIELDS = "GET /v3/marketing/field_definitions"
EP_UPSERT = "PUT /v3/marketing/contacts"
EP_JOB = "GET /v3/marketing/contacts/imports/{id}"
EP_ERRORS = "GET errors_url"
EP_SEARCH = "POST /v3/marketing/contacts/search/emails"
EP_REMOVE = "DELETE /v3/marketing/lists/{id}/contacts"
EP_DELETE = "DELETE /v3/marketing/contacts"

SEARCH_LIMIT = 100
REMOVE_LIMIT = 100
TERMINAL = ("completed", "errored", "failed")


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

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


class SendGridClient:
    def __init__(self, http: SendGridHttp) -> None:
        self.http = http

    async def get_list(self, list_id: str) -> ListInfo:
        reply = await self.http.call("GET", EP_LIST, f"{LISTS}/{list_id}", tolerated=(404,))
        if reply.status == 404:
            raise SendGridRejected(
                f"list {list_id} does not exist in this SendGrid account: create it "
                "(Marketing > Contacts > Create list) or fix spec.sendgrid.listId",
                status=404,
            )
        data = _object(reply.data, EP_LIST)
        return ListInfo(
            str(data.get("id", list_id)),
            str(data.get("name", "")),
            int(data.get("contact_count", 0)),
        )

    async def field_definitions(self) -> dict[str, CustomField]:
        reply = await self.http.call("GET", EP_FIELDS, "/v3/marketing/field_definitions")
        data = _object(reply.data, EP_FIELDS)
        return {
            str(field["name"]): CustomField(str(field["id"]), str(field.get("field_type", "Text")))
            for field in data.get("custom_fields", [])
            if isinstance(field, dict) and "name" in field and "id" in field
        }

    async def upsert(self, body: bytes) -> str:
        reply = await self.http.call("PUT", EP_UPSERT, CONTACTS, body=body, expected=(202,))
        return _job_id(reply.data, EP_UPSERT)

    async def job(self, job_id: str) -> Job | None:
        """The job's state, or None when SendGrid does not know it (expired, lost)."""
        reply = await self.http.call(
            "GET", EP_JOB, f"{CONTACTS}/imports/{job_id}", tolerated=(404,)
        )
        if reply.status == 404:
            return None
        data = _object(reply.data, EP_JOB)
        results = data.get("results") if isinstance(data.get("results"), dict) else {}
        assert isinstance(results, dict)
        return Job(
            id=job_id,
            status=str(data.get("status", "pending")),
            errored_count=int(results.get("errored_count") or 0),
            errors_url=results.get("errors_url") or None,
        )

    async def wait_for(self, job_id: str, *, max_interval: float) -> Job | None:
        """Poll with a growing pause until the job ends; None if SendGrid does not know it."""
        pause = 0.05
        while True:
            job = await self.job(job_id)
            if job is None or job.finished:
                return job
            await asyncio.sleep(pause)
            pause = min(max_interval, pause * 2)

    async def job_errors(self, errors_url: str) -> dict[str, str]:
        """The rejected contacts of an errored job: lower-cased email → reason."""
        reply = await self.http.call("GET", EP_ERRORS, "", url=errors_url)
        rejected: dict[str, str] = {}
        for row in csv.DictReader(io.StringIO(reply.text)):
            email = (row.get("email") or "").strip().lower()
            if email:
                rejected[email] = (row.get("error") or "rejected by SendGrid").strip()
        return rejected

    async def search_emails(self, emails: Sequence[str]) -> dict[str, str]:
        """Contact ids of those emails that exist (≤ 100 a call)."""
        found: dict[str, str] = {}
        for start in range(0, len(emails), SEARCH_LIMIT):
            chunk = list(emails[start : start + SEARCH_LIMIT])
            body = orjson.dumps({"emails": chunk})
            reply = await self.http.call(
                "POST", EP_SEARCH, f"{CONTACTS}/search/emails", body=body, tolerated=(404,)
            )
            if reply.status == 404:
                continue
            result = _object(reply.data, EP_SEARCH).get("result", {})
            for email, entry in result.items() if isinstance(result, dict) else ():
                contact = entry.get("contact") if isinstance(entry, dict) else None
                if isinstance(contact, dict) and contact.get("id"):
                    found[str(email).lower()] = str(contact["id"])
        return found

    async def remove_from_list(self, list_id: str, contact_ids: Sequence[str]) -> str:
        """Take contacts off the list (they stay in the account); ≤ 100 ids a call."""
        assert 0 < len(contact_ids) <= REMOVE_LIMIT
        reply = await self.http.call(
            "DELETE",
            EP_REMOVE,
            f"{LISTS}/{list_id}/contacts",
            params={"contact_ids": ",".join(contact_ids)},
            expected=(202,),
        )
        return _job_id(reply.data, EP_REMOVE)

    async def delete_contacts(self, contact_ids: Sequence[str]) -> str:
        """Delete contacts from the account (onLeave: deleteContact); ≤ 100 ids a call."""
        assert 0 < len(contact_ids) <= REMOVE_LIMIT
        reply = await self.http.call(
            "DELETE", EP_DELETE, CONTACTS, params={"ids": ",".join(contact_ids)}, expected=(202,)
        )
        return _job_id(reply.data, EP_DELETE)


def _object(data: Any, endpoint: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SendGridUnavailable(f"{endpoint}: SendGrid answered without a JSON object")
    return data


def _job_id(data: Any, endpoint: str) -> str:
    job_id = _object(data, endpoint).get("job_id")
    if not isinstance(job_id, str) or not job_id:
        raise SendGridUnavailable(f"{endpoint}: SendGrid accepted the request without a job id")
    return job_id
