"""One destination's loop: wait for its time (or a trigger), run, decide when to run next.

Never two runs of one destination at once: the loop is the only caller. Failures
never escape: a temporary one is retried with backoff, a permanent one waits for
the file to change or a person to ask, a guard waits for the next refresh.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from syncd.clock import Clock, wait_any
from syncd.loading import LoadedDestination
from syncd.logs import get_logger, scrub
from syncd.reconciling import RunProgress, RunReport
from syncd.reconciling.auditing import AuditRequest
from syncd.scheduling.audits import AuditTimer
from syncd.scheduling.runners import AuditRunner, Request, Runner
from syncd.scheduling.status import DestinationStatus
from syncd.scheduling.timing import backoff, next_run
from syncd.shapes import AuditReport, Trigger

log = get_logger("syncd.scheduling")


class Worker:
    def __init__(
        self,
        loaded: LoadedDestination,
        runner: Runner,
        slots: asyncio.Semaphore,
        clock: Clock,
        status: DestinationStatus,
        *,
        stop: asyncio.Event,
        backoff_max: float,
        on_change: Callable[[], None],
        stall_recheck: float = 900.0,
        last_start: float | None = None,
        resume: bool = True,
        rng: random.Random | None = None,
        last_audit: float | None = None,
        audit_settle_window: float = 600.0,
        audit_count_tolerance: int = 0,
        auditor: AuditRunner | None = None,
        on_audit: Callable[[str, AuditReport], None] = lambda name, report: None,
    ) -> None:
        self.loaded = loaded
        self.runner = runner
        self.slots = slots
        self.clock = clock
        self.status = status
        self.stop = stop
        self.halt = asyncio.Event()
        self.turn = asyncio.Lock()
        """Held for each run, and by work that must happen between runs (`syncd forget`)."""
        self.backoff_max = backoff_max
        self.stall_recheck = stall_recheck
        self.on_change = on_change
        self.rng = rng or random.Random()
        self.wake = asyncio.Event()
        self.requests: list[Request] = []
        self.failures = 0
        self.last_start = last_start
        # A new definition, or unfinished work from before a restart, runs at once;
        # otherwise the schedule continues from the last recorded run.
        self.due_now = resume or last_start is None
        self.stalled = False
        self.recheck_at: float | None = None
        """When a stall whose cause lies with SendGrid is tried again by itself."""
        self.owned = False  # set by the scheduler's claims; only an owner runs
        self.audits = AuditTimer(
            loaded.name,
            last_audit=last_audit,
            now=clock.now(),
            settle_window=audit_settle_window,
            tolerance=audit_count_tolerance,
            rng=self.rng,
        )
        self.auditor = auditor
        self.on_audit = on_audit

    # -- steering from the scheduler ---------------------------------------------------
    def update(self, loaded: LoadedDestination) -> None:
        """A changed file: take it from the next run on, which is now."""
        self.loaded = loaded
        self.status.file_changed(
            loaded.path.name, loaded.digest, loaded.definition.spec.display_name
        )
        self.failures = 0
        self.stalled = False
        self.due_now = True
        self.wake.set()

    def moved(self, loaded: LoadedDestination) -> None:
        """The same definition in a file of another name: nothing to run; the status names
        the file it is in now."""
        self.loaded = loaded
        self.status.file_changed(
            loaded.path.name, loaded.digest, loaded.definition.spec.display_name
        )

    def audit(self, request: AuditRequest) -> asyncio.Future[AuditReport]:
        """An audit between runs, as soon as the destination's turn comes; its report."""
        answer = self.audits.ask(request)
        self.wake.set()
        return answer

    def trigger(self, request: Request) -> None:
        self.requests.append(request)
        self.stalled = False
        self.wake.set()

    def by(self, when: float) -> None:
        """Run no later than `when` (an erasure waiting on SendGrid's search)."""
        if self.status.next_run_at is None or when < self.status.next_run_at:
            self._set_next(when)
            self.wake.set()

    def stopping(self) -> bool:
        return self.stop.is_set() or self.halt.is_set() or not self.owned

    def set_owned(self, owned: bool, *, run_now: bool) -> None:
        if owned and not self.owned and run_now:
            self.due_now = True  # taken over: finish what the previous owner left open
        self.owned = self.status.owned = owned
        self.wake.set()

    # -- the loop ----------------------------------------------------------------------
    async def run(self) -> None:
        while not (self.stop.is_set() or self.halt.is_set()):
            spec = self.loaded.definition.spec
            self.status.suspended = spec.suspend
            if not self.owned or (spec.suspend and not self.requests):
                self._set_next(None)
            elif self.requests or self.due_now:
                await self._run_once()
                continue
            elif self._audit_due():
                await self._audit_once()
                continue
            elif self.stalled:
                self._set_next(self.recheck_at)
            elif self.status.next_run_at is None:
                self._set_next(self._scheduled())
            await self._sleep_until(self._wake_at())
            if self.status.next_run_at is not None and self.clock.now() >= self.status.next_run_at:
                self.due_now = True

    def _audits_run(self) -> bool:
        """Audits need an owned, running destination: not while suspended or stalled
        (asked-for audits still run while stalled: someone wants to see the list)."""
        spec = self.loaded.definition.spec
        return (
            self.auditor is not None
            and self.owned
            and not spec.suspend
            and (not self.stalled or bool(self.audits.asks))
        )

    def _audit_due(self) -> bool:
        spec = self.loaded.definition.spec.audit
        return self._audits_run() and self.audits.due(spec, self.clock.now())

    def _wake_at(self) -> float | None:
        when = self.status.next_run_at
        if self._audits_run():
            audit_at = self.audits.schedule(self.loaded.definition.spec.audit, self.clock.now())
            when = audit_at if when is None else min(when, audit_at)
        return when

    async def _audit_once(self) -> None:
        spec = self.loaded.definition.spec.audit
        request, asks = self.audits.take(spec)
        assert self.auditor is not None
        async with self.turn, self.slots:
            if self.stopping():
                self.audits.put_back(asks)
                return
            started = self.clock.now()
            live = RunProgress(self.clock)
            self.status.audit_started(started, live)
            self.on_change()
            try:
                report = await self.auditor.audit(
                    self.loaded, request, stopping=self.stopping, live=live
                )
            except Exception as error:
                log.exception("schedule.audit_failed", destination=self.loaded.name)
                report = AuditReport(
                    destination=self.loaded.name,
                    outcome="unexpected",
                    error=scrub(f"{type(error).__name__}: {error}")[:500],
                    reason=request.reason,
                )
            except BaseException:
                self.audits.abandon(asks)
                raise
        self.status.audit_finished(report, self.clock.now())
        self.audits.done(started, report, asks, now=self.clock.now())
        self.on_audit(self.loaded.name, report)
        self.on_change()

    async def _sleep_until(self, when: float | None) -> None:
        self.wake.clear()
        timeout = None if when is None else max(0.0, when - self.clock.now())
        await wait_any(
            self.wake, self.stop, self.halt, seconds=timeout, name=f"worker:{self.loaded.name}:wait"
        )

    async def _run_once(self) -> None:
        requests, self.requests = self.requests, []
        self.due_now = False
        trigger: Trigger = "manual" if requests else "schedule"
        allow_removals = any(r.allow_removals for r in requests)
        async with self.turn, self.slots:
            if self.stopping():
                self.requests = requests + self.requests
                return
            self.last_start = self.clock.now()
            live = RunProgress(self.clock)
            self.status.started(trigger, self.last_start, live)
            self.status.next_run_at = None
            self.on_change()
            report = await self._run(trigger, allow_removals, live)
        now = self.clock.now()
        ended = report.ended_at or now
        if report.started_at and self.status.last_run is not None:
            self.status.last_run.started_at = report.started_at  # as the ledger has it
        self.status.finished(
            report.outcome,
            report.counts(),
            report.error,
            ended,
            report.run_id,
            report.recheck,
            read=report.read,
        )
        if requests:
            self.status.last_handled_request = max(r.id for r in requests)
            self.status.last_handled_run = report.run_id
        self._after(report, now)
        self.audits.check_count(self.loaded.definition.spec.audit, report, now)
        self.on_change()

    async def _run(self, trigger: Trigger, allow_removals: bool, live: RunProgress) -> RunReport:
        """One run; whatever it raises ends as an `unexpected` outcome, never as a dead
        worker (which would leave the destination "reconciling" for ever)."""
        try:
            return await self.runner.run(
                self.loaded,
                trigger=trigger,
                allow_removals=allow_removals,
                stopping=self.stopping,
                live=live,
            )
        except Exception as error:
            log.exception("schedule.run_failed", destination=self.loaded.name)
            report = RunReport(self.loaded.name, trigger)
            report.outcome = "unexpected"
            report.error = scrub(f"{type(error).__name__}: {error}")[:500]
            return report

    def _after(self, report: RunReport, now: float) -> None:
        self.stalled, self.recheck_at = False, None
        if report.outcome in ("success", "guard"):
            self.failures = 0
            scheduled = self._scheduled()
            if report.requeue_after is not None:  # removals waiting on SendGrid's search
                scheduled = min(scheduled, now + report.requeue_after)
            self._set_next(scheduled)
        elif report.outcome == "permanent":
            self.failures = 0
            self.stalled = True
            self.recheck_at = now + self.stall_recheck if report.recheck else None
            self._set_next(self.recheck_at)
        else:
            self.failures += 1
            delay = backoff(
                self.failures, retry_after=report.retry_after, cap=self.backoff_max, rng=self.rng
            )
            self._set_next(now + delay)
            log.info(
                "schedule.retry",
                destination=self.loaded.name,
                failures=self.failures,
                delay_s=round(delay, 1),
            )

    def _scheduled(self) -> float:
        return next_run(
            self.loaded.definition.spec.schedule,
            last_start=self.last_start,
            now=self.clock.now(),
            rng=self.rng,
        )

    def _set_next(self, when: float | None) -> None:
        self.status.next_run_at = when
        self.on_change()
