"""The outbox, carried out: record a batch, send it, record its job, acknowledge on completion.

Each step is its own ledger transaction (reliability.md §1), so a crash anywhere
leaves a state the next run finishes: a `prepared` batch is sent again (upserts
are idempotent), a `submitted` one is polled and never sent again.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from syncd import failpoints
from syncd.contacts import Outgoing
from syncd.errors import SendGridUnavailable
from syncd.ledger import (
    RETRY_BUDGET,
    Batch,
    LedgerSession,
    OutboxItem,
    Rejection,
    StagedContact,
)
from syncd.logs import get_logger
from syncd.planning import RemovalAction
from syncd.sendgrid import REMOVE_LIMIT, Job, Packer, SendGridClient, upsert_body

log = get_logger("syncd.reconciling")
PAGE = 5_000
STOP_CHECK = 0.25
"""Seconds between two looks at `stopping` while waiting for a SendGrid job."""
STOPPING = "stopping: open jobs are polled again after the restart"
T = TypeVar("T")


async def in_thread(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.to_thread(call, *args, **kwargs)


Progress = Callable[..., None]
"""Called as `progress(event, **counts)`; the CLI draws a progress line from it."""


def no_progress(event: str, **counts: int) -> None:
    del event, counts


@dataclass
class Applied:
    upserted: int = 0
    removed: int = 0
    failed_jobs: int = 0
    batches_done: int = 0
    """Batches acknowledged (applied) in this run, resumed ones included."""
    rejections: list[Rejection] = field(default_factory=list)


class Applier:
    def __init__(
        self,
        session: LedgerSession,
        client: SendGridClient,
        *,
        list_id: str,
        run_id: int | None,
        segment_names: list[str],
        job_timeout: float,
        poll_max_interval: float,
        stopping: Callable[[], bool],
        progress: Progress = no_progress,
    ) -> None:
        self.progress = progress
        self.session = session
        self.client = client
        self.list_id = list_id
        self.run_id = run_id
        self.segment_names = segment_names
        self.job_timeout = job_timeout
        self.poll_max_interval = poll_max_interval
        self.stopping = stopping
        self.pending: list[Batch] = []
        self.result = Applied()

    async def resume(self) -> None:
        """Finish what earlier runs left open before computing anything new."""
        for batch in await in_thread(self.session.open_batches):
            if batch.state == "submitted":
                self.pending.append(batch)
                self._jobs_changed()
            else:
                await self._send(batch)
        await self.settle()

    async def send_upserts(self, outgoing: Outgoing) -> None:
        binding = outgoing.binding
        packer = Packer(binding.list_id)
        items: list[OutboxItem] = []
        refused: list[tuple[StagedContact, str, str]] = []
        after = ""
        while page := await in_thread(self.session.to_send, RETRY_BUDGET, after, PAGE):
            after = page[-1].email
            for contact in page:
                segment = self.segment_names[contact.segment]
                encoded = outgoing.encode(contact.payload)
                if isinstance(encoded, str):
                    refused.append((contact, segment, encoded))
                    continue
                if not packer.fits(len(encoded)):
                    await self._open_batch("upsert", items)
                    packer.reset()
                    items = []
                packer.add(len(encoded))
                items.append(
                    OutboxItem(
                        contact.email,
                        contact.fingerprint,
                        binding.digest,
                        encoded,
                        segment,
                        contact.row,
                        contact.raw,
                    )
                )
        if items:
            await self._open_batch("upsert", items)
        await in_thread(self.session.give_up, refused)

    async def send_removals(self, action: RemovalAction) -> None:
        after = ""
        while page := await in_thread(self.session.gone, after, PAGE):
            after = page[-1]
            for start in range(0, len(page), REMOVE_LIMIT):
                chunk = page[start : start + REMOVE_LIMIT]
                await self._open_batch(
                    "remove" if action == "remove" else "delete",
                    [OutboxItem(email) for email in chunk],
                )

    async def _open_batch(self, kind: Any, items: list[OutboxItem]) -> None:
        if self.stopping():
            raise SendGridUnavailable("stopping: no new batches are started")
        batch = await in_thread(self.session.prepare, kind, self.list_id, items, self.run_id)
        failpoints.hit("after-outbox-commit")
        await self._send(batch)

    async def _send(self, batch: Batch) -> None:
        if batch.kind == "upsert":
            bodies = await in_thread(self.session.bodies, batch.id)
            failpoints.hit("before-upsert-request")
            job_id = await self.client.upsert(upsert_body(batch.list_id, bodies))
        else:
            emails = await in_thread(self.session.emails, batch.id)
            ids = list((await self.client.search_emails(emails)).values())
            if not ids:  # none of them exists any more: nothing left to take off the list
                await in_thread(self.session.complete, batch, {})
                self.result.removed += batch.size
                self.result.batches_done += 1
                return
            if batch.kind == "remove":
                job_id = await self.client.remove_from_list(batch.list_id, ids)
            else:
                job_id = await self.client.delete_contacts(ids)
        failpoints.hit("after-202-before-job-commit")
        submitted_at = await in_thread(self.session.submitted, batch.id, job_id)
        failpoints.hit("after-job-commit")
        self.pending.append(
            replace(batch, state="submitted", job_id=job_id, submitted_at=submitted_at)
        )
        self.progress("submitted", batches=len(self.pending), contacts=batch.size)
        self._jobs_changed()

    async def settle(self) -> None:
        """Wait for every submitted job and record its outcome."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.job_timeout
        while self.pending:
            if self.stopping():
                raise SendGridUnavailable(STOPPING)
            batch = self.pending[0]
            assert batch.job_id is not None
            try:
                failpoints.hit("while-polling")
                async with asyncio.timeout_at(deadline):
                    job = await self._wait(batch.job_id)
            except TimeoutError:
                raise SendGridUnavailable(
                    f"{len(self.pending)} SendGrid job(s) still pending after "
                    f"{self.job_timeout:.0f}s; the next run goes on polling them"
                ) from None
            self.pending.pop(0)
            self._jobs_changed()
            if job is None:
                log.warning("reconcile.job_unknown", batch=batch.id, kind=batch.kind)
                await in_thread(self.session.reopen, batch.id)
                await self._send(replace(batch, state="prepared", job_id=None))
                continue
            await self._record(batch, job)

    async def _wait(self, job_id: str) -> Job | None:
        """Poll a job until it ends (None: SendGrid does not know it), pausing longer each
        time. A stop ends the wait at once, whatever the job does: it stays `submitted` in
        the ledger, so the next start polls it again and never sends it again."""
        pause = 0.05
        while True:
            job = await self.client.job(job_id)
            if job is None or job.finished:
                return job
            slices = math.ceil(pause / STOP_CHECK)
            for _ in range(slices):
                if self.stopping():
                    raise SendGridUnavailable(STOPPING)
                await asyncio.sleep(pause / slices)
            pause = min(self.poll_max_interval, pause * 2)

    def _jobs_changed(self) -> None:
        submitted = [b.submitted_at for b in self.pending if b.submitted_at is not None]
        self.progress("jobs", open=len(self.pending), oldest=int(min(submitted, default=0)))

    async def _record(self, batch: Batch, job: Job) -> None:
        rejected: dict[str, str] = {}
        if job.status in ("errored", "failed") and job.errors_url and batch.kind == "upsert":
            listed = await self.client.job_errors(job.errors_url)
            members = set(await in_thread(self.session.emails, batch.id))
            rejected = {email: reason for email, reason in listed.items() if email in members}
        # SendGrid ends a job `failed` when it rejected every contact in it, one by one (the
        # errors file names them all): an outcome like `errored`, not a job that failed.
        every_one_rejected = bool(rejected) and len(rejected) == batch.size
        applied = job.status == "completed" or (
            bool(rejected) and (job.status == "errored" or every_one_rejected)
        )
        failpoints.hit("after-completed-before-ack")
        if not applied and not rejected:
            await in_thread(self.session.abandon, batch.id)
        else:
            reported = await in_thread(self.session.complete, batch, rejected, applied=applied)
            self.result.rejections.extend(reported)
        failpoints.hit("after-ack-commit")
        if not applied:
            self.result.failed_jobs += 1
            log.warning("reconcile.job_failed", batch=batch.id, kind=batch.kind, job=job.id)
        elif batch.kind == "upsert":
            self.result.upserted += batch.size - len(rejected)
            self.result.batches_done += 1
        else:
            self.result.removed += batch.size
            self.result.batches_done += 1
        self.progress(
            "acknowledged",
            upserted=self.result.upserted,
            removed=self.result.removed,
            pending=len(self.pending),
        )
