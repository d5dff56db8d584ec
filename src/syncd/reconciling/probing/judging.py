"""Observations turned into findings: what was seen, and whether syncd's assumption holds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from syncd.contacts.values import Refused, calendar_date
from syncd.reconciling.probing.examples import DATE_FIELD, DATE_SENT, NUMBER_FIELD, Fate, Sent
from syncd.reconciling.probing.findings import Finding, unobserved
from syncd.sendgrid import Found, Job
from syncd.sendgrid.client import EP_ERRORS
from syncd.sendgrid.errors_file import ErrorsFileLayout
from syncd.sendgrid.replies import Reply
from syncd.sendgrid.scopes import missing_scopes

RATE_LIMIT_PREFIX = "x-ratelimit-"


@dataclass(frozen=True)
class ErrorsFile:
    job: Job
    layout: ErrorsFileLayout | None
    """None: the job gave no errors_url."""
    addresses: frozenset[str]
    """The addresses syncd's own reader found in it."""


class HeaderTally:
    """Every answer's rate-limit header names, as spelled on the wire."""

    def __init__(self) -> None:
        self.answers = 0
        self.spellings: Counter[str] = Counter()

    def observe(self, endpoint: str, reply: Reply) -> None:
        if endpoint == EP_ERRORS:  # a download link, not the API
            return
        self.answers += 1
        for name in reply.wire_names:
            if name.lower().startswith(RATE_LIMIT_PREFIX):
                self.spellings[name] += 1


def scopes(granted: frozenset[str]) -> Finding:
    missing = missing_scopes(granted, removes=True)
    marketing = sorted(s for s in granted if s.startswith(("marketing.", "marketing_campaigns.")))
    observed = f"{len(granted)} scope(s), of them {', '.join(marketing) or 'no Marketing scope'}"
    if missing:
        observed += f"; missing {', '.join(missing)}"
    return Finding("scopes", observed, not missing, {"scopes": sorted(granted)})


def bad_values(sent: Sent) -> Finding:
    first = sent.first
    if isinstance(first, str):
        observed = "no: the upsert holding blank typed values and an invalid address was accepted"
        return Finding("bad-values-refused-up-front", f"{observed} (202)", True, {"status": 202})
    if first is None:
        return unobserved("bad-values-refused-up-front", "no upsert was answered")
    target = first.target("contacts")
    fields = [error.field for error in first.errors if error.field not in (None, "", "null")]
    if target == "elements":
        named = f"naming {', '.join(str(f) for f in fields)}"
    elif target == "whole" and not fields:
        named = "naming no contact"
    elif target == "whole":
        named = (
            f"naming {', '.join(str(f) for f in fields)}, which syncd cannot map to contacts "
            "(it splits the body until each refused contact stands alone)"
        )
    else:
        named = f"naming {', '.join(str(f) for f in fields)}, which syncd cannot map to contacts"
    errors = [{"field": error.field, "message": error.message} for error in first.errors]
    return Finding(
        "bad-values-refused-up-front",
        f"yes: refused whole with {first.status}, {len(first.errors)} error(s), {named}",
        target != "other",
        {"status": first.status, "errors": errors},
    )


def blank_typed_values(fate: Fate, found: Found | None) -> Finding:
    if fate.how in ("refused up front", "rejected in the job"):
        return Finding("blank-typed-values", f"{fate.how}: {fate.reason}", True)
    if fate.how == "unknown":
        return unobserved("blank-typed-values", fate.reason)
    held = _held(found)
    return Finding(
        "blank-typed-values",
        f'accepted: "" for a Number and a Date went through; SendGrid holds {held}',
        False,
        {"held": _custom(found)},
    )


def date_format(fate: Fate, found: Found | None) -> Finding:
    if fate.how != "accepted":
        if fate.how == "unknown":
            return unobserved("date-format", fate.reason)
        return Finding("date-format", f"{DATE_SENT} {fate.how}: {fate.reason}", False)
    value = _custom(found).get(DATE_FIELD)
    if value is None:
        why = "search did not show the contact with its date" if found else "search never found it"
        return Finding("date-format", f"{DATE_SENT} accepted; {why}", None)
    try:
        same = calendar_date(str(value)) == DATE_SENT
    except Refused:
        same = False
    verdict = "the same date" if same else "not the date sent, or in a form syncd does not read"
    observed = f'{DATE_SENT} accepted; SendGrid holds "{value}" ({verdict})'
    return Finding("date-format", observed, same, {"sent": DATE_SENT, "held": value})


def invalid_email(fate: Fate) -> Finding:
    if fate.how == "unknown":
        return unobserved("invalid-email", fate.reason)
    if fate.how == "accepted":
        return Finding("invalid-email", "accepted: the job took an address with two dots", False)
    return Finding("invalid-email", f"{fate.how}: {fate.reason}", True)


def errors_files(files: Sequence[ErrorsFile]) -> tuple[Finding, Finding]:
    errored = [f for f in files if f.job.errored_count or f.layout is not None]
    if not errored:
        why = "no job rejected a contact, so there was no errors file"
        return unobserved("errors-file-layout", why), unobserved("errors-file-adds-up", why)
    layouts = [f.layout for f in errored if f.layout is not None]
    rows = sum(layout.rows for layout in layouts)
    counted = sum(f.job.errored_count for f in errored)
    addresses = sum(len(f.addresses) for f in errored)
    adds_up = Finding(
        "errors-file-adds-up",
        f"{rows} row(s) in the errors file(s) for errored_count {counted}",
        rows == counted and len(layouts) == len(errored),
        {"rows": rows, "erroredCount": counted},
    )
    if not layouts:
        return unobserved("errors-file-layout", "the errored job gave no errors_url"), adds_up
    layout = layouts[0]
    shape = ("gzip'd " if layout.gzipped else "") + layout.format.upper()
    observed = f"{shape} with columns {', '.join(layout.headers) or '(none)'}"
    observed += f"; syncd's reader found {addresses} address(es) in {rows} row(s)"
    details = {
        "gzip": layout.gzipped,
        "format": layout.format,
        "headers": list(layout.headers),
        "rows": rows,
        "addressesRead": addresses,
    }
    readable = None if rows == 0 else addresses == rows
    return Finding("errors-file-layout", observed, readable, details), adds_up


def search_lag(waited: float | None, max_wait: float, removal_window: float) -> Finding:
    if waited is None:
        agrees = False if max_wait >= removal_window else None
        observed = f"the contacts were not found with their list and values within {max_wait:.0f} s"
        return Finding("search-lag", observed, agrees, {"maxWaitSeconds": max_wait})
    observed = f"found on the list with their values {waited:.0f} s after their job completed"
    return Finding("search-lag", observed, waited <= removal_window, {"seconds": round(waited, 1)})


def removal_job(job: Job | None, waited: float, grace: float) -> Finding:
    if job is None:
        observed = (
            "not pollable: GET /v3/marketing/contacts/imports/{id} answered 404 for "
            f"{grace:.0f} s after the removal's 202"
        )
        return Finding("removal-job-pollable", observed, True, {"pollable": False})
    state = f"ended {job.status}" if job.finished else f"still {job.status} after {waited:.0f} s"
    details = {"pollable": True, "status": job.status, "counts": dict(job.counts)}
    return Finding("removal-job-pollable", f"pollable: the job {state}", True, details)


def removal_applied(
    waited: float | None, max_wait: float, confirm_grace: float, list_count: int | None
) -> Finding:
    count = "" if list_count is None else f"; the list's contact_count is now {list_count}"
    details: dict[str, object] = {"listContactCount": list_count}
    if waited is None:
        observed = f"search still shows them on the list {max_wait:.0f} s after the 202{count}"
        agrees = False if max_wait >= confirm_grace else None
        return Finding("removal-applied", observed, agrees, details)
    details["seconds"] = round(waited, 1)
    observed = f"search showed them off the list {waited:.0f} s after the 202{count}"
    return Finding("removal-applied", observed, True, details)


def rate_limit_headers(tally: HeaderTally) -> Finding:
    if not tally.spellings:
        observed = f"no X-RateLimit-* header on any of {tally.answers} answer(s)"
        return Finding("rate-limit-header-case", observed, False, {"answers": tally.answers})
    spelled = ", ".join(f"{name} ({count})" for name, count in sorted(tally.spellings.items()))
    lower = {name.lower() for name in tally.spellings}
    paced = {f"{RATE_LIMIT_PREFIX}remaining", f"{RATE_LIMIT_PREFIX}reset"} <= lower
    observed = f"{spelled} on {tally.answers} answer(s)"
    if not paced:
        observed += "; no Remaining and Reset pair to pace by"
    details = {"answers": tally.answers, "spellings": dict(tally.spellings)}
    return Finding("rate-limit-header-case", observed, paced, details)


def _custom(found: Found | None) -> dict[str, object]:
    values = found.fields.get("custom_fields") if found is not None else None
    return dict(values) if isinstance(values, Mapping) else {}


def _held(found: Found | None) -> str:
    if found is None:
        return "values search never showed"
    values = _custom(found)
    shown = [f"{name}={values[name]!r}" for name in (NUMBER_FIELD, DATE_FIELD) if name in values]
    return ", ".join(shown) or "no value for either"
