"""Asynchronous jobs: upserts and deletions are accepted at once and applied later.

A job is applied by a background task `job_delay` seconds of loop time after it was
created (at the next loop iteration when the delay is 0), never inside the request that
created it. Timing uses only loop time, so tests on fake loop time (looptime) work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from syncd.emulator import rules
from syncd.emulator.errors_files import ErrorsFileLayout
from syncd.emulator.faults import ActiveFault, FaultBook, FaultRule
from syncd.emulator.store import iso_timestamp

logger = logging.getLogger("syncd.emulator")


@dataclass(frozen=True)
class UpsertWork:
    list_ids: list[str]
    contacts: list[dict[str, object]]


@dataclass(frozen=True)
class DeleteWork:
    contact_ids: list[str] | None  # None: every contact


@dataclass(frozen=True)
class ListRemovalWork:
    list_id: str
    contact_ids: list[str]


Work = UpsertWork | DeleteWork | ListRemovalWork


@dataclass
class Job:
    id: str
    job_type: rules.JobType
    template: str
    work: Work
    sequence: int
    due_at: float
    started_at: str
    injected: FaultRule | None = None  # a job_errored / job_failed rule chosen at creation
    status: rules.JobStatus = "pending"
    finished_at: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    rejections: list[tuple[str, str]] = field(default_factory=list)  # (email, reason) rows
    errors_file: ErrorsFileLayout | None = None  # set when it finishes with rejections
    failure: str | None = None  # why a failed job applied nothing, shown in its body


class JobRunner:
    """Holds every job and applies the pending ones when they are due."""

    def __init__(
        self,
        apply: Callable[[Job], None],
        faults: FaultBook,
        job_delay: float,
        wall_clock: Callable[[], float],
    ) -> None:
        self._apply = apply
        self._faults = faults
        self._job_delay = job_delay
        self._wall_clock = wall_clock
        self.jobs: dict[str, Job] = {}
        self._pending: list[Job] = []
        self._sequence = 0
        self._hold_until: float | None = None
        self._wakeup: asyncio.Event | None = None
        faults.on_change(self._wake)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(self, job_type: rules.JobType, template: str, work: Work) -> Job:
        """Creates a pending job; job faults matching the creating request are decided now."""
        now = asyncio.get_running_loop().time()
        injected = self._faults.take("job_failed", template, now) or self._faults.take(
            "job_errored", template, now
        )
        self._sequence += 1
        job = Job(
            id=str(uuid.uuid4()),
            job_type=job_type,
            template=template,
            work=work,
            sequence=self._sequence,
            due_at=now + self._job_delay,
            started_at=iso_timestamp(self._wall_clock()),
            injected=injected.rule if injected else None,
        )
        self.jobs[job.id] = job
        self._pending.append(job)
        self._wake()
        return job

    async def run(self) -> None:
        """Applies jobs as they fall due; runs until cancelled."""
        loop = asyncio.get_running_loop()
        # Created here, not in __init__, so that the event belongs to the loop that runs it.
        wakeup = self._wakeup = asyncio.Event()
        try:
            while True:
                wakeup.clear()
                wake_at = self._step(loop.time(), force=False)
                timeout = None if wake_at is None else max(0.0, wake_at - loop.time())
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await wakeup.wait()
        finally:
            self._wakeup = None

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    def settle(self) -> None:
        """Applies every pending job now, whatever its delay (held jobs still newest first)."""
        self._step(asyncio.get_running_loop().time(), force=True)

    def _step(self, now: float, *, force: bool) -> float | None:
        due = [job for job in self._pending if force or job.due_at <= now]
        held: list[tuple[Job, ActiveFault]] = []
        for job in due:
            reorder = self._faults.peek("out_of_order", job.template, now)
            if reorder is None:
                self._finish(job)
            else:
                held.append((job, reorder))
        if held:
            if self._hold_until is None:
                self._hold_until = now + held[0][1].rule.effective_seconds
            if force or now >= self._hold_until:
                for job, _ in sorted(held, key=lambda pair: pair[0].sequence, reverse=True):
                    self._finish(job)
                for reorder in {id(fault): fault for _, fault in held}.values():
                    self._faults.use(reorder, now)
                self._hold_until = None
        else:
            self._hold_until = None
        waits = [job.due_at for job in self._pending if job.due_at > now]
        if self._hold_until is not None:
            waits.append(self._hold_until)
        return min(waits, default=None)

    def _finish(self, job: Job) -> None:
        self._pending.remove(job)
        try:
            self._apply(job)
        except Exception:
            # A bug here must not stop the runner: later jobs would stay pending forever.
            logger.exception("emulator job %s could not be applied", job.id)
            job.status = "failed"
        job.finished_at = iso_timestamp(self._wall_clock())
        counts = " ".join(f"{name.removesuffix('_count')}={n}" for name, n in job.counts.items())
        logger.info("job %s (%s) %s: %s", job.id, job.job_type, job.status, counts)
