"""Waiting for SendGrid's jobs, and recording what each did.

- `completed`: every contact of the batch is acknowledged, in one transaction (unless
  the job counts errors: then it is read as `errored`).
- `errored`, or `failed` naming or hiding contacts: those it did not apply spend a retry
  (and are reported once out of retries), the rest are acknowledged (`job_outcome`: who,
  from the errors file or by search), so no batch of bad contacts holds the destination up;
  while search may still lag behind the job, the batch stays open and is looked at again
  on a later run.
- `failed` as a whole, blaming nobody (the account's contact limit, say): nothing applied,
  nothing charged to the contacts; the destination stalls with SendGrid's message.
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

from syncd import failpoints
from syncd.comparing import FieldTypes
from syncd.errors import SendGridUnavailable
from syncd.ledger import Batch
from syncd.logs import get_logger
from syncd.reconciling.confirming import Closed, Confirmations
from syncd.reconciling.context import STOPPING, Outbox
from syncd.reconciling.job_outcome import LATER, FailedWhole, account_full, rejected_in_job
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
    """Wait for every submitted job and record its outcome, in the order submitted; the
    leavers of each window of removal jobs are confirmed while the next window is polled
    and closed (`confirming`)."""
    confirmations = Confirmations(outbox)
    try:
        await _settle(outbox, resend, fields, confirmations)
        await confirmations.settle()
    finally:
        await confirmations.close()


async def _settle(
    outbox: Outbox, resend: Resend, fields: FieldTypes, confirmations: Confirmations
) -> None:
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
        await confirmations.behind(await record_ended(outbox, ended, resend, fields))


async def record_ended(
    outbox: Outbox, ended: list[tuple[Batch, Job | None]], resend: Resend, fields: FieldTypes
) -> Closed:
    """Record jobs that have ended, the first of `outbox.pending` on: each leaves the
    pending jobs as it is recorded, in the order submitted. Removal jobs that ended one
    after another are closed together (one transaction); the accepted ones are returned,
    with their leavers, for the caller to confirm (`confirming`)."""
    closed: Closed = []
    removals: list[tuple[Batch, Job | None]] = []
    for batch, job in ended:
        assert outbox.pending[0] is batch, "jobs are recorded in the order submitted"
        outbox.pending.pop(0)
        outbox.jobs_changed()
        if batch.kind == "upsert":
            closed += await _close_removals(outbox, removals)
            removals = []
            await _record_upsert(outbox, batch, job, resend, fields)
        else:
            removals.append((batch, job))
    closed += await _close_removals(outbox, removals)
    return closed


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


async def _close_removals(
    outbox: Outbox, ended: list[tuple[Batch, Job | None]]
) -> list[tuple[Batch, list[str]]]:
    """Removal jobs ended: their batches are closed; each accepted batch with the leavers
    it carried (to be confirmed by search). Those of a failed job stay leavers, sent again
    later."""
    if not ended:
        return []
    outcomes = [(batch, job is None or job.status != "failed") for batch, job in ended]
    failpoints.hit("after-completed-before-ack")
    members = await in_thread(outbox.session.close_removals, outcomes)
    failpoints.hit("after-ack-commit")
    closed: list[tuple[Batch, list[str]]] = []
    for (batch, sent), emails in zip(outcomes, members, strict=True):
        if sent:
            closed.append((batch, emails))
        else:
            outbox.result.failed_jobs += 1
            log.warning("reconcile.job_failed", batch=batch.id, kind=batch.kind)
    return closed


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
    # `completed` while counting errors (or with a count that is none) is not taken for
    # every contact applied: the errored ones are found as after an `errored` job (the
    # docs do not say it happens).
    if job.status != "completed" or job.errored_count or job.errors_unclear:
        found = await rejected_in_job(outbox, batch, job, fields)
        if isinstance(found, FailedWhole):
            await _stall(outbox, batch, job)
            return
        if found == LATER:  # the batch stays open: the next run looks again
            outbox.result.awaiting_search += batch.size
            return
        rejected = found
        full = [email for email, why in rejected.items() if account_full(why)]
        if full:
            batch = await _set_aside(outbox, batch, full, rejected[full[0]])
            rejected = {email: why for email, why in rejected.items() if email not in full}
            if not batch.size:  # closed with its last item
                return
    failpoints.hit("after-completed-before-ack")
    reported = await in_thread(session.complete, batch, rejected)
    failpoints.hit("after-ack-commit")
    outbox.result.rejections.extend(reported)
    outbox.result.upserted += batch.size - len(rejected)
    outbox.result.batches_done += 1


async def _set_aside(outbox: Outbox, batch: Batch, emails: list[str], reason: str) -> Batch:
    """Contacts the account had no room for: neither acknowledged nor charged, they go
    again once it has (the destination stalls, re-checked as for a job that failed)."""
    left = await in_thread(outbox.session.drop_items, batch, emails)
    outbox.result.set_aside += len(emails)  # over the run's batches
    outbox.result.stalled = (
        f"SendGrid had no room for {outbox.result.set_aside:,} contact(s): {reason}. Nothing "
        "was charged to them; they are sent again when the destination is re-checked or "
        "synced on demand"
    )
    log.warning("reconcile.account_full", batch=batch.id, contacts=len(emails))
    return replace(batch, size=left)


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
        f"{job.message or 'it gave no reason'}. Nothing was charged to the "
        "contacts; they are sent again when the destination is re-checked or synced on "
        "demand"
    )
    log.warning("reconcile.job_failed", batch=batch.id, kind=batch.kind, job=job.id)
