"""Reading SendGrid's answers, which are untrusted: every field is checked for its type.

A field that is missing or of another type is read as nothing (a count of 0, no page
token) where that is safe, and ends the request as `SendGridUnavailable` where syncd
cannot go on without it (a job id, an id that goes into a URL path).
"""

from __future__ import annotations

import re
from typing import Any

import yarl

from syncd.errors import SendGridUnavailable

# Ids SendGrid hands out go back into URL paths (a job's, an export's) and into
# comma-separated query values (`contact_ids=a,b`): none may hold what would change the
# path, start a query or fragment, be decoded into one (`%`), or name a second id (`,`).
# SendGrid's own are UUIDs; anything else printable is taken, so that an id of another
# shape is never refused for its shape alone.
_ID = re.compile(r"[^\s/\\?#%,\x00-\x1f\x7f]{1,200}")


def sendable_id(value: object) -> str | None:
    """An id as SendGrid gave it, or None when it is not one syncd may send back."""
    if isinstance(value, str) and _ID.fullmatch(value) and value.strip(".") != "":
        return value
    return None


def path_id(value: object, endpoint: str) -> str:
    """An id that goes into a URL path, as SendGrid gave it (`sendable_id`)."""
    found = sendable_id(value)
    if found is None:
        raise SendGridUnavailable(f"{endpoint}: SendGrid answered without a usable id")
    return found


def next_page_token(data: dict[str, Any]) -> str | None:
    """SendGrid pages lists with a `page_token` inside `_metadata.next`, a URL."""
    metadata = data.get("_metadata")
    following = metadata.get("next") if isinstance(metadata, dict) else None
    if not isinstance(following, str) or not following:
        return None
    try:
        return yarl.URL(following).query.get("page_token") or None
    except (TypeError, ValueError):
        return None


def json_object(data: Any, endpoint: str) -> dict[str, Any]:
    """The answer's body, which must be a JSON object."""
    if not isinstance(data, dict):
        raise SendGridUnavailable(f"{endpoint}: SendGrid answered without a JSON object")
    return data


def count(data: dict[str, Any], key: str) -> int:
    """A count SendGrid gave, or 0 for anything that is not one."""
    return said_count(data, key) or 0


def said_count(data: dict[str, Any], key: str) -> int | None:
    """A count SendGrid gave, or None when it gave none (or anything that is not one). The
    spec types the job counts as `number`: a whole float (`2.0`) is the count it says."""
    value = data.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def job_id(data: Any, endpoint: str) -> str:
    """The id of the job an accepted write started. It goes into the URL path its state is
    asked at: an id that could change that path or add a query (`../`, `?`) counts as none."""
    found = sendable_id(json_object(data, endpoint).get("job_id"))
    if found is None:
        raise SendGridUnavailable(
            f"{endpoint}: SendGrid accepted the request without a usable job id"
        )
    return found


def job_message(data: dict[str, Any]) -> str:
    """Whatever a job says about why it failed: not documented, so looked for widely."""
    texts: list[str] = []
    for key in ("message", "error", "reason"):
        if isinstance(data.get(key), str):
            texts.append(data[key])
    results = data.get("results")
    for source in (data, results if isinstance(results, dict) else {}):
        errors = source.get("errors")
        for entry in errors if isinstance(errors, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("message"), str):
                texts.append(entry["message"])
            elif isinstance(entry, str):
                texts.append(entry)
    return " ".join("; ".join(dict.fromkeys(t.strip() for t in texts if t.strip())).split())[:300]
