"""Waiting for SendGrid's jobs, and recording what each did.

- `completed`: every contact of the batch is acknowledged, in one transaction.
- `errored` (or `failed` with an errors file that has rows): the contacts its errors file
  names spend a retry; the rest are acknowledged. When the file names fewer contacts than
  the job's `errored_count`, or none at all (its format is not documented: a layout syncd
  cannot read, or a job without counts), the others are looked up instead of being
  trusted: acknowledged when SendGrid shows them on the list with the values sent, else
  they spend a retry too (and are reported once out of retries), so no batch of bad
  contacts holds the destination up. An errors file whose link has expired is read the same
  way: every contact of the job looked up.
- `failed` with no errors file, or an empty one (the account's contact limit, say):
  nothing applied, nothing charged to the contacts; the destination stalls with
  SendGrid's message.
- unknown (404): a removal job is checked by searching (SendGrid does not document
  polling them); an upsert job is sent again only after SendGrid has not known it for
  `unknown_job_grace`.
- still `pending` `stuck_job_after` after it was submitted: taken for unknown (lost), so
  no job SendGrid never finishes holds its contacts or the destination for ever.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace

import orjson

from syncd import failpoints
from syncd.comparing import FieldTypes, differences
from syncd.errors import SendGridUnavailable
from syncd.ledger import Batch
from syncd.logs import get_logger
from syncd.planning import RemovalAction
from syncd.reconciling.context import STOPPING, Outbox
from syncd.reconciling.removing import confirm
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import Job

log = get_logger("syncd.reconciling")
STOP_CHECK = 0.25
"""Seconds between two looks at `stopping` while waiting for a SendGrid job."""
POLL_AHEAD = 8
"""Open jobs looked at together: the first is waited for, the others recorded with it if
they have ended too (`SendGridClient.jobs` asks a few at once)."""
Resend = Callable[[Batch], Awaitable[None]]


async def settle(outbox: Outbox, resend: Resend, fields: FieldTypes) -> None:
    """Wait for every submitted job and record its outcome, in the order submitted."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + outbox.limits.job_timeout
    while outbox.pending:
        if outbox.stopping():
            raise SendGridUnavailable(STOPPING)
        try:
            failpoints.hit("while-polling")
            async with asyncio.timeout_at(deadline):
                ended = await _ended(outbox)
        except TimeoutError:
            raise SendGridUnavailable(
                f"{len(outbox.pending)} SendGrid job(s) still pending after "
                f"{outbox.limits.job_timeout:.0f}s; the next run goes on polling them"
            ) from None
        await record_ended(outbox, ended, resend, fields)


async def record_ended(
    outbox: Outbox, ended: list[tuple[Batch, Job | None]], resend: Resend, fields: FieldTypes
) -> None:
    """Record jobs that have ended, the first of `outbox.pending` on: each leaves the
    pending jobs as it is recorded, in the order submitted."""
    closed: list[tuple[Batch, list[str]]] = []
    for batch, job in ended:
        assert outbox.pending[0] is batch, "jobs are recorded in the order submitted"
        outbox.pending.pop(0)
        outbox.jobs_changed()
        if batch.kind == "upsert":
            await _record_upsert(outbox, batch, job, resend, fields)
        elif (emails := await _close_removal(outbox, batch, job)) is not None:
            closed.append((batch, emails))
    await _confirm_removals(outbox, closed)


def ended_first(window: list[Batch], states: list[Job | None]) -> list[tuple[Batch, Job | None]]:
    """The jobs of `window` (the first pending ones) that have ended, up to the first that
    has not: later ones wait for it, so that jobs are recorded in the order submitted."""
    ended: list[tuple[Batch, Job | None]] = []
    for batch, job in zip(window, states, strict=True):
        if not _has_ended(batch, job):
            break
        ended.append((batch, job))
    return ended


async def _ended(outbox: Outbox) -> list[tuple[Batch, Job | None]]:
    """The first open job, waited for, and the open jobs right after it that have ended
    too. The states of the first `POLL_AHEAD` are asked at once: a run that opened a
    hundred removal jobs does not poll them one round trip after another."""
    window = outbox.pending[:POLL_AHEAD]
    if len(window) > 1:
        asked = await outbox.client.jobs([job_id(batch) for batch in window])
        states = [
            _unless_stuck(outbox, batch, job) for batch, job in zip(window, asked, strict=True)
        ]
        if ended := ended_first(window, states):
            return ended
    return [(window[0], await _wait(outbox, window[0]))]


def _has_ended(batch: Batch, job: Job | None) -> bool:
    """Whether a job's state settles its batch without waiting: finished, or unknown to
    SendGrid for a removal (checked by searching); an unknown upsert job gets its grace
    period (`_wait`)."""
    return job.finished if job is not None else batch.kind != "upsert"


def _stuck(outbox: Outbox, batch: Batch) -> bool:
    """Whether the batch's job was submitted `stuck_job_after` ago or more."""
    submitted = batch.submitted_at
    return submitted is not None and (
        outbox.clock.now() - submitted >= outbox.limits.stuck_job_after
    )


def _unless_stuck(outbox: Outbox, batch: Batch, job: Job | None) -> Job | None:
    """The job's state, or None (unknown) for a job SendGrid still calls pending long after
    any job should have ended: taken for lost rather than polled for ever, so an upsert
    batch is sent again (an upsert is idempotent) and a removal checked by searching."""
    if job is None or job.finished or not _stuck(outbox, batch):
        return job
    log.warning("reconcile.job_stuck", batch=batch.id, kind=batch.kind, job=job.id)
    return None


def job_id(batch: Batch) -> str:
    assert batch.job_id is not None
    return batch.job_id


async def _wait(outbox: Outbox, batch: Batch) -> Job | None:
    """Poll a job until it ends, pausing longer each time; None when SendGrid does not know
    it (at once for a removal job; for an upsert job, once it has not known it for the
    grace period). A stop ends the wait at once: the batch stays `submitted` in the ledger,
    so the next start polls it again and never sends it again."""
    assert batch.job_id is not None
    pause = 0.05
    while True:
        job = _unless_stuck(outbox, batch, await outbox.client.job(batch.job_id))
        if job is not None and job.finished:
            return job
        if job is None and _stuck(outbox, batch):
            return None  # unknown for good: no grace period to wait after a day pending
        if job is None:
            if batch.kind != "upsert":
                return None
            since = await in_thread(outbox.session.job_unknown, batch.id)
            if outbox.clock.now() - since >= outbox.limits.unknown_job_grace:
                return None
        slices = math.ceil(pause / STOP_CHECK)
        for _ in range(slices):
            if outbox.stopping():
                raise SendGridUnavailable(STOPPING)
            await asyncio.sleep(pause / slices)
        pause = min(outbox.limits.poll_max_interval, pause * 2)


async def _close_removal(outbox: Outbox, batch: Batch, job: Job | None) -> list[str] | None:
    """A removal job ended: its batch is closed; the leavers it carried (to be confirmed by
    search), or None when the job failed (they stay leavers, sent again later)."""
    sent = job is None or job.status != "failed"
    failpoints.hit("after-completed-before-ack")
    emails = await in_thread(outbox.session.close_removal, batch, sent=sent)
    failpoints.hit("after-ack-commit")
    if not sent:
        outbox.result.failed_jobs += 1
        log.warning("reconcile.job_failed", batch=batch.id, kind=batch.kind)
        return None
    return emails


async def _confirm_removals(outbox: Outbox, closed: list[tuple[Batch, list[str]]]) -> None:
    """The leavers of the removal jobs that ended together, confirmed by search: one lookup
    for each list (or deletion), its searches several at once, where a search a batch
    waited on each other's round trips."""
    asked: dict[tuple[RemovalAction, str], list[str]] = {}
    for batch, emails in closed:
        action: RemovalAction = "remove" if batch.kind == "remove" else "delete"
        asked.setdefault((action, batch.list_id), []).extend(emails)
    for (action, list_id), emails in asked.items():
        await confirm(outbox, emails, action, list_id)
    outbox.result.batches_done += len(closed)


async def _record_upsert(
    outbox: Outbox, batch: Batch, job: Job | None, resend: Resend, fields: FieldTypes
) -> None:
    session = outbox.session
    if outbox.forgotten:
        batch = await _drop_forgotten(outbox, batch)
        if not batch.size:
            return
    if job is None:
        log.warning("reconcile.job_unknown", batch=batch.id, kind=batch.kind)
        await in_thread(session.reopen, batch.id)
        await resend(batch.again(batch.size))
        return
    rejected: dict[str, str] = {}
    if job.status != "completed":
        listed = await outbox.client.job_errors(job.errors_url) if job.errors_url else None
        gone = job.errors_url is not None and listed is None
        if gone:
            log.warning("reconcile.errors_file_gone", batch=batch.id, job=job.id)
        members = await in_thread(session.items, batch.id)
        named = listed.rejected if listed else {}
        rejected = {email: named[email] for email, _ in members if email in named}
        if job.status == "failed" and not rejected and not gone and not (listed and listed.rows):
            await _stall(outbox, batch, job)
            return
        # Not completed, and some contact unaccounted for: the count says more failed than
        # the file names, or nobody is named (a file syncd cannot read or whose link has
        # expired, a job without counts). Search tells who was applied; nobody is
        # acknowledged on trust.
        if job.errored_count > len(rejected) or not rejected:
            rest = [(email, body) for email, body in members if email not in rejected]
            why = _unaccounted(job, len(rejected), gone)
            rejected |= await _verify(outbox, batch, rest, why, fields)
    failpoints.hit("after-completed-before-ack")
    reported = await in_thread(session.complete, batch, rejected)
    failpoints.hit("after-ack-commit")
    outbox.result.rejections.extend(reported)
    outbox.result.upserted += batch.size - len(rejected)
    outbox.result.batches_done += 1


async def _drop_forgotten(outbox: Outbox, batch: Batch) -> Batch:
    """A job that was in flight when an address of it was forgotten: SendGrid could not be
    stopped, but nothing about the address is recorded (acknowledged, charged a retry, or
    sent again when the job is unknown). Returns the batch as it is left."""
    members = await in_thread(outbox.session.emails, batch.id)
    forgotten = [email for email in members if outbox.forgotten.holds(email)]
    if not forgotten:
        return batch
    left = await in_thread(outbox.session.drop_items, batch, forgotten)
    log.info("reconcile.forgotten_in_flight", batch=batch.id, dropped=len(forgotten))
    return replace(batch, size=left)


async def _stall(outbox: Outbox, batch: Batch, job: Job) -> None:
    """A job failed as a whole, with no contact blamed: nothing was applied."""
    await in_thread(outbox.session.abandon, batch.id)
    outbox.result.failed_jobs += 1
    outbox.result.stalled = (
        f"SendGrid failed a job of {batch.size:,} contact(s) as a whole: "
        f"{job.message or 'it gave no reason'}. Nothing was charged to the contacts; they "
        "are sent again when the destination is re-checked or synced on demand"
    )
    log.warning("reconcile.job_failed", batch=batch.id, kind=batch.kind, job=job.id)


def _unaccounted(job: Job, named: int, gone: bool) -> str:
    """Why the contacts of a job that did not complete are looked up."""
    if gone:
        return f"SendGrid ended the job {job.status} and its errors file was no longer there"
    if job.errored_count:
        return f"SendGrid reported {job.errored_count} errors but its errors file named {named}"
    return f"SendGrid ended the job {job.status} without saying which contacts failed"


async def _verify(
    outbox: Outbox, batch: Batch, members: list[tuple[str, bytes]], why: str, fields: FieldTypes
) -> dict[str, str]:
    """The contacts of an errored job its errors file did not account for, looked up: those
    not on the list with the values sent count as rejected (a retry each, then reported).
    A search lagging behind the job may not show a contact it applied: that one is sent
    again, harmlessly, and acknowledged then."""
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
