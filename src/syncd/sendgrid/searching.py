"""Looking contacts up by email, the way SendGrid's search lets us.

`POST /v3/marketing/contacts/search/emails` takes at most 100 addresses of at most 100
characters each, refuses the whole call when one of them is invalid, and matches
alternate emails too: searching for ann@x may return the contact whose *primary* email is
bob@y. So: longer addresses are never sent (they cannot be looked up); a refused call is
split until the refused addresses stand alone; a match counts only when the contact's
primary email is the address searched, so an alternate match never makes syncd unlist
or delete somebody else.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from syncd.errors import SendGridUnavailable
from syncd.sendgrid import answers
from syncd.sendgrid.http import SendGridHttp
from syncd.sendgrid.refusals import BODY_REFUSALS, Refusal, refusal
from syncd.sendgrid.together import at_most

EP_SEARCH = "POST /v3/marketing/contacts/search/emails"
SEARCH_PATH = "/v3/marketing/contacts/search/emails"
SEARCH_LIMIT = 100
MAX_SEARCH_LENGTH = 100
SEARCHES_AT_ONCE = 4
"""Searches in flight at once for one client, whichever lookups they serve (a run looks up
its next pages of leavers while it confirms the removals already sent): a lookup of many
addresses waits on round trips, not on syncd, and how many searches at once SendGrid
tolerates is not documented; the rate gate still holds each to the endpoint's window."""


@dataclass(frozen=True)
class Found:
    """A contact as SendGrid's search shows it (possibly minutes behind its jobs)."""

    id: str
    email: str
    list_ids: frozenset[str]
    fields: dict[str, Any]
    """Reserved fields by name, and `custom_fields` keyed by custom field *name*."""


@dataclass
class Lookup:
    found: dict[str, Found] = field(default_factory=dict)
    """Searched address → the contact whose primary email it is."""
    unsearchable: dict[str, str] = field(default_factory=dict)
    """Address → why SendGrid's search cannot look it up (it refused it, or it is too long
    for it): asking again will not help."""
    unclear: dict[str, str] = field(default_factory=dict)
    """Address → why this answer about it could not be read (a contact without its id,
    primary email or lists; an answer about more addresses than asked): neither found nor
    absent, and asked again later."""
    alternates: int = 0
    """Addresses that matched only another contact's alternate email (left alone)."""


def search_gate() -> asyncio.Semaphore:
    """The searches one client may have in flight (`SEARCHES_AT_ONCE`), shared by its
    lookups."""
    return asyncio.Semaphore(SEARCHES_AT_ONCE)


async def lookup(http: SendGridHttp, emails: Sequence[str], gate: asyncio.Semaphore) -> Lookup:
    result = Lookup()
    searchable: list[str] = []
    for email in dict.fromkeys(emails):
        if len(email) > MAX_SEARCH_LENGTH:
            result.unsearchable[email] = (
                f"SendGrid's search takes addresses of at most {MAX_SEARCH_LENGTH} characters "
                f"(this one has {len(email)}), so syncd cannot find its contact id"
            )
        else:
            searchable.append(email)
    chunks = [
        searchable[start : start + SEARCH_LIMIT]
        for start in range(0, len(searchable), SEARCH_LIMIT)
    ]
    calls = [functools.partial(_search, http, chunk, result, gate) for chunk in chunks]
    await at_most(SEARCHES_AT_ONCE, calls)
    # In the order asked, whatever order the answers came in.
    asked = dict.fromkeys(emails)
    result.found = {email: result.found[email] for email in asked if email in result.found}
    result.unsearchable = {
        email: result.unsearchable[email] for email in asked if email in result.unsearchable
    }
    result.unclear = {email: result.unclear[email] for email in asked if email in result.unclear}
    return result


async def _search(
    http: SendGridHttp, emails: list[str], result: Lookup, gate: asyncio.Semaphore
) -> None:
    pending = [emails]
    while pending:
        chunk = pending.pop()
        async with gate:
            answer = await _call(http, chunk)
        if not isinstance(answer, Refusal):
            read_answer(answer, chunk, result)
            continue
        if len(chunk) == 1:
            result.unsearchable[chunk[0]] = f"SendGrid's search refused it: {answer.summary()}"
            continue
        named = (
            answer.elements("emails", len(chunk)) if answer.target("emails") == "elements" else {}
        )
        if named:
            for index, reason in named.items():
                result.unsearchable[chunk[index]] = f"SendGrid's search refused it: {reason}"
            rest = [email for i, email in enumerate(chunk) if i not in named]
            if rest:
                pending.append(rest)
        else:  # nothing named: halve until the refused addresses stand alone
            middle = len(chunk) // 2
            pending += [chunk[middle:], chunk[:middle]]


async def _call(http: SendGridHttp, chunk: list[str]) -> dict[str, Any] | Refusal:
    reply = await http.call(
        "POST",
        EP_SEARCH,
        SEARCH_PATH,
        body=orjson.dumps({"emails": chunk}),
        tolerated=(404, *BODY_REFUSALS),
    )
    if reply.status == 404:  # "No contacts found", as SendGrid's errors document
        if not isinstance(reply.data, dict):
            # A proxy's error page says nothing about anybody: taken for "nobody found",
            # it would confirm removals.
            raise SendGridUnavailable(
                "SendGrid's search answered 404 without its JSON error; tried again later"
            )
        return {}
    if reply.status != 200:
        return refusal(reply.status, reply.data)
    data = reply.data.get("result") if isinstance(reply.data, dict) else None
    if not isinstance(data, dict):
        # SendGrid answers 404 when it finds nobody; a 200 without a `result` says nothing
        # about anybody, and taken for "nobody found" it would confirm removals.
        raise SendGridUnavailable(
            "SendGrid's search answered 200 without a result object; tried again later"
        )
    return data


def read_answer(answer: dict[str, Any], chunk: list[str], result: Lookup) -> None:
    """One search's answer, for the addresses of `chunk`, into `result`."""
    if len(answer) > len(chunk):
        # An answer about more addresses than were asked is not one to act on (and one of
        # millions would hold the event loop while read).
        for email in chunk:
            result.unclear[email] = (
                "SendGrid's search answered about more addresses than it was asked"
            )
        return
    by_lower = {str(key).strip().lower(): entry for key, entry in answer.items()}
    for email in chunk:
        entry = by_lower.get(email)
        contact = entry.get("contact") if isinstance(entry, dict) else None
        if not isinstance(contact, dict):
            continue
        identifier = answers.sendable_id(contact.get("id"))
        if identifier is None:
            # Sent back, `a,b` would remove a second contact: the contact cannot be removed
            # by this answer, nor taken for absent (which would confirm a removal).
            result.unclear[email] = (
                "SendGrid's search answered with a contact but no usable contact id"
            )
            continue
        if not isinstance(contact.get("email"), str):
            # Whose contact this is cannot be told (an alternate-email match is somebody
            # else's): neither found nor taken for absent, which would confirm a removal.
            result.unclear[email] = (
                "SendGrid's search answered with a contact but not its primary email"
            )
            continue
        primary = contact["email"].strip().lower()
        if primary != email:
            result.alternates += 1
            continue
        list_ids = contact.get("list_ids")
        if not isinstance(list_ids, list):
            # The spec requires them: read as "on no list", a malformed answer would
            # confirm a removal that never happened.
            result.unclear[email] = (
                "SendGrid's search answered with a contact but not the lists it is on"
            )
            continue
        result.found[email] = Found(
            id=identifier, email=primary, list_ids=frozenset(map(str, list_ids)), fields=contact
        )
