"""What a job that did not simply complete did to its contacts: who counts as rejected,
and why.

`errored` (or `failed` with an errors file that has rows, or `completed` counting errors):
the contacts its errors file names are rejected with SendGrid's reason. When the file
names fewer contacts than the job's `errored_count`, or none at all (its format is not
documented: a layout syncd cannot read, a link it does not fetch or that has been missing
too long, or a job without counts), the others are looked up rather than trusted:
acknowledged when SendGrid shows them on the list with the values sent, else rejected too
(they spend a retry, and are reported once out of retries). Search lags behind jobs
(minutes): they are looked up once `search_lag_grace` has passed since the batch went
out; until then the batch stays open (`LATER`) and a later run looks at it again, rather
than charging contacts SendGrid may well have applied but search does not show yet.
`failed` with no errors file, or an empty one (the account's contact limit, say): nothing
was applied and nobody is to blame (`FailedWhole`). A contact the errors file refuses for
the account's contact limit (`account_full`) is not to blame either: the caller sets it
aside, uncharged, to go again once the account has room.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import orjson

from syncd.comparing import FieldTypes, differences
from syncd.errors import SendGridUnavailable
from syncd.ledger import Batch
from syncd.logs import get_logger
from syncd.reconciling.context import Outbox
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import ErrorsFileMissing, Job
from syncd.sendgrid.errors_file import ErrorsListed

log = get_logger("syncd.reconciling")


Later = Literal["later"]
LATER: Final[Later] = "later"


@dataclass(frozen=True)
class FailedWhole:
    """The job failed as a whole, blaming nobody: the caller stalls the destination and
    charges nobody."""


async def rejected_in_job(
    outbox: Outbox, batch: Batch, job: Job, fields: FieldTypes
) -> dict[str, str] | Later | FailedWhole:
    """The batch's contacts the job did not apply (email → why); `FailedWhole` when it
    failed as a whole, blaming nobody (the caller stalls the destination: nothing is
    charged); `LATER` when search does not show some contact applied yet but may still
    be behind."""
    listed = await _errors_listed(outbox, batch, job)
    gone = job.errors_url is not None and listed is None
    if gone:
        log.warning("reconcile.errors_file_gone", batch=batch.id, job=job.id)
    members = await in_thread(outbox.session.items, batch.id)
    named = listed.rejected if listed else {}
    rejected = {email: named[email] for email, _ in members if email in named}
    if job.status == "failed" and not rejected and not gone and not (listed and listed.rows):
        return FailedWhole()
    # Some contact unaccounted for: the count says more failed than the file names, or
    # nobody is named. Search tells who was applied; nobody is acknowledged on trust.
    if job.errored_count > len(rejected) or not rejected:
        if _search_may_lag(outbox, batch):
            # Looked up once, when search has had its time: looking now would rarely find
            # them all, and a batch of 30,000 is 300 searches a look.
            log.info("reconcile.job_unconfirmed", batch=batch.id, contacts=batch.size)
            return LATER
        rest = [(email, body) for email, body in members if email not in rejected]
        why = _unaccounted(job, len(rejected), gone)
        rejected |= await _verify(outbox, batch, rest, why, fields)
    return rejected


ACCOUNT_FULL = "contact limit"
"""How SendGrid words a refusal for the account's size ("you have hit your contact limit",
sendgrid-go#413); where it puts it (the job's message, or each row of its errors file) is
not documented, so both are met."""


def account_full(reason: str) -> bool:
    """A contact refused because the account is full: its own values are not at fault
    (charged a retry each run, it would be given up for good before the plan is raised)."""
    return ACCOUNT_FULL in reason.lower()


def _search_may_lag(outbox: Outbox, batch: Batch) -> bool:
    submitted = batch.submitted_at
    return submitted is not None and (
        outbox.clock.now() - submitted < outbox.limits.search_lag_grace
    )


async def _errors_listed(outbox: Outbox, batch: Batch, job: Job) -> ErrorsListed | None:
    """What the job's errors file says; None when there is none to read: no link, or one
    syncd does not read, or a file its link has said is missing for `unknown_job_grace`
    since the batch went out (a signed link expires; before that it is taken for a passing
    refusal, and the job is read again on the next run)."""
    if job.errors_url is None:
        return None
    try:
        return await outbox.client.job_errors(job.errors_url)
    except ErrorsFileMissing as missing:
        submitted = batch.submitted_at
        waited = outbox.clock.now() - submitted if submitted is not None else math.inf
        if waited < outbox.limits.unknown_job_grace:
            raise SendGridUnavailable(
                f"{missing.message}; the job is read again on the next run"
            ) from None
        return None


def _unaccounted(job: Job, named: int, gone: bool) -> str:
    """Why the contacts of a job that did not complete are looked up."""
    if gone:
        return f"SendGrid ended the job {job.status} and its errors file was no longer there"
    if job.errors_unclear:
        return f"SendGrid ended the job {job.status} with an errored_count that is no count"
    if job.errored_count:
        return f"SendGrid reported {job.errored_count} errors but its errors file named {named}"
    return f"SendGrid ended the job {job.status} without saying which contacts failed"


async def _verify(
    outbox: Outbox, batch: Batch, members: list[tuple[str, bytes]], why: str, fields: FieldTypes
) -> dict[str, str]:
    """The contacts of an errored job its errors file did not account for, looked up: those
    not on the list with the values sent (email → why)."""
    log.warning("reconcile.errors_file_short", batch=batch.id, why=why)
    lookup = await outbox.client.lookup([email for email, _ in members])
    rejected: dict[str, str] = {}
    for email, body in members:
        contact = lookup.found.get(email)
        if contact is None:
            rejected[email] = f"{why}; search did not find this contact after the job"
        elif batch.list_id not in contact.list_ids:
            rejected[email] = f"{why}; this contact is not on the list after the job"
        elif changed := differences(orjson.loads(body), contact.fields, fields):
            rejected[email] = f"{why}; SendGrid holds other values for {', '.join(changed)}"
    return rejected
