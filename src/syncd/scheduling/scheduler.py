"""Adjusts workers to the desired destinations (stop first, start later), bounds concurrency,
takes on-demand triggers and keeps every destination's status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from syncd.clock import Clock
from syncd.ledger import Leases, LocalLeases
from syncd.loading import LoadedDestination, Problem
from syncd.logs import get_logger
from syncd.metrics import Metrics
from syncd.reconciling.auditing import AuditRequest
from syncd.scheduling.drift import audit_metrics
from syncd.scheduling.gauges import count_states, publish_interval
from syncd.scheduling.restoring import Past, restore
from syncd.scheduling.runners import AuditRunner, Request, Runner
from syncd.scheduling.status import DestinationStatus, problem_shape
from syncd.scheduling.status_overview import status_document
from syncd.scheduling.worker import Worker
from syncd.shapes import AuditReport, StatusDocument
from syncd.shapes import DestinationStatus as StatusShape

log = get_logger("syncd.scheduling")
T = TypeVar("T")


class UnknownDestination(LookupError):
    pass


class Suspended(RuntimeError):
    pass


class Scheduler:
    def __init__(
        self,
        runner: Runner,
        metrics: Metrics,
        clock: Clock,
        *,
        max_concurrent_runs: int,
        backoff_max: float,
        history: Mapping[str, Past] | None = None,
        leases: Leases | None = None,
        claim_interval: float = 5.0,
        stall_recheck: float = 900.0,
        auditor: AuditRunner | None = None,
        audit_settle_window: float = 600.0,
        audit_count_tolerance: int = 0,
    ) -> None:
        self.auditor = auditor
        self.audit_settle_window = audit_settle_window
        self.audit_count_tolerance = audit_count_tolerance
        self.leases: Leases = leases or LocalLeases()
        self.shared = not isinstance(self.leases, LocalLeases)
        self.claim_interval = claim_interval
        self.runner = runner
        self.metrics = metrics
        self.clock = clock
        self.slots = asyncio.Semaphore(max_concurrent_runs)
        self.backoff_max = backoff_max
        self.stall_recheck = stall_recheck
        self.history = dict(history or {})
        self.stop = asyncio.Event()
        self.workers: dict[str, Worker] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.problems: Sequence[Problem] = ()
        self.invalid_files: Sequence[str] = ()
        self._requests = 0
        self._lock = asyncio.Lock()
        self._between = asyncio.Lock()

    # -- adjusting to the catalog -------------------------------------------------------
    async def apply(
        self,
        destinations: Mapping[str, LoadedDestination],
        *,
        problems: Sequence[Problem] = (),
        invalid_files: Sequence[str] = (),
        stale: Mapping[str, Sequence[Problem]] | None = None,
    ) -> None:
        async with self._lock:
            self.problems = tuple(problems)
            self.invalid_files = tuple(invalid_files)
            for name in [n for n in self.workers if n not in destinations]:
                await self._retire(name)
            for name, loaded in destinations.items():
                worker = self.workers.get(name)
                if worker is None:
                    self._start(loaded)
                elif worker.loaded.digest != loaded.digest:
                    log.info("schedule.changed", destination=name)
                    worker.update(loaded)
                elif worker.loaded.path != loaded.path:
                    log.info("schedule.file_renamed", destination=name, file=loaded.path.name)
                    worker.moved(loaded)
                self._publish_interval(loaded)
            now = self.clock.now()
            for name, worker in self.workers.items():
                found = (stale or {}).get(name, ())
                worker.status.file_checked([problem_shape(p) for p in found], now)
            await self._claim_round()
            self._count_states()

    def _start(self, loaded: LoadedDestination) -> None:
        name = loaded.name
        self.metrics.start_destination(name)
        status = DestinationStatus(
            name,
            loaded.path.name,
            loaded.digest,
            display_name=loaded.definition.spec.display_name,
            suspended=loaded.definition.spec.suspend,
        )
        past = self.history.pop(name, None)
        last_start = None
        last_audit = None
        resume = True
        if past is not None and past.drift is not None:
            last_audit = past.drift.audited_at
        if past is not None:
            restore(status, past, self.metrics)
            run = past.summary.last_run
            last_start = run.started_at
            resume = (
                run.ended_at is None
                or past.summary.open_batches > 0
                or past.summary.pending_erasures > 0
                or run.digest != loaded.digest
            )
        worker = Worker(
            loaded,
            self.runner,
            self.slots,
            self.clock,
            status,
            stop=self.stop,
            backoff_max=self.backoff_max,
            on_change=self._count_states,
            stall_recheck=self.stall_recheck,
            last_start=last_start,
            resume=resume,
            last_audit=last_audit,
            audit_settle_window=self.audit_settle_window,
            audit_count_tolerance=self.audit_count_tolerance,
            auditor=self.auditor,
            on_audit=self._audited,
        )
        self.workers[name] = worker
        self.tasks[name] = asyncio.create_task(worker.run(), name=f"worker:{name}")
        log.info("schedule.started", destination=name)

    def _audited(self, name: str, report: AuditReport) -> None:
        audit_metrics(self.metrics, name, report, self.clock.now())

    async def _retire(self, name: str) -> None:
        """A removed file: stop without touching SendGrid (an open job is left for later)."""
        worker = self.workers.pop(name)
        task = self.tasks.pop(name)
        worker.halt.set()
        await asyncio.gather(task, return_exceptions=True)
        self.metrics.forget_destination(name)
        log.info("schedule.stopped", destination=name)

    # -- ownership ----------------------------------------------------------------------
    async def _claim_round(self) -> None:
        """Take this replica's share of the destinations; hand running ones back only
        once their run ends."""
        busy = {n for n, w in self.workers.items() if w.status.running}
        held = await asyncio.to_thread(self.leases.adjust, sorted(self.workers), busy)
        for name, worker in self.workers.items():
            owned = name in held
            if owned != worker.owned:
                log.info("schedule.ownership", destination=name, owned=owned)
                if owned:
                    self._publish_interval(worker.loaded)
            if not owned:
                # Only the owner speaks for a destination: a standby replica's timestamps
                # would look stale to the alerts while another replica keeps it fresh.
                self.metrics.forget_destination(name)
            worker.set_owned(owned, run_now=self.shared)
            self.metrics.leader.labels(destination=name).set(1 if owned else 0)
        self._count_states()

    async def keep_claiming(self, stop: asyncio.Event) -> None:
        """Claim rounds until stopped: heartbeat, take orphans, give back extras."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.claim_interval)
            if not stop.is_set():
                async with self._lock:
                    await self._claim_round()

    def _publish_interval(self, loaded: LoadedDestination) -> None:
        publish_interval(self.metrics, self.clock, loaded, with_audits=self.auditor is not None)

    def _count_states(self) -> None:
        count_states(self.metrics, self.workers)

    # -- on demand ------------------------------------------------------------------------
    def trigger(self, name: str, *, allow_removals: bool = False) -> int:
        worker = self.workers.get(name)
        if worker is None:
            raise UnknownDestination(name)
        if worker.loaded.definition.spec.suspend:
            raise Suspended(name)
        self._requests += 1
        worker.trigger(Request(self._requests, allow_removals))
        return self._requests

    def audit(self, name: str, request: AuditRequest) -> asyncio.Future[AuditReport]:
        """Audit a destination between its runs; the report once done."""
        worker = self.workers.get(name)
        if worker is None or self.auditor is None:
            raise UnknownDestination(name)
        if worker.loaded.definition.spec.suspend:
            raise Suspended(name)
        return worker.audit(request)

    async def between_runs(self, names: Iterable[str], work: Callable[[], Awaitable[T]]) -> T:
        """Carry out `work` while none of these destinations runs: runs in progress end
        first, and none starts before it is done. One such work at a time."""
        async with self._between, contextlib.AsyncExitStack() as held:
            for name in sorted(names):  # one order for everyone: no deadlock
                worker = self.workers.get(name)
                if worker is not None:
                    await held.enter_async_context(worker.turn)
            return await work()

    def run_by(self, name: str, when: float) -> None:
        """Run a destination no later than `when`, if it has a worker."""
        worker = self.workers.get(name)
        if worker is not None:
            worker.by(when)

    def destination_files(self) -> dict[str, LoadedDestination]:
        """The destinations with a worker, as their files were last loaded."""
        return {name: worker.loaded for name, worker in self.workers.items()}

    # -- status ---------------------------------------------------------------------------
    def status(self, name: str) -> StatusShape:
        worker = self.workers.get(name)
        if worker is None:
            raise UnknownDestination(name)
        return worker.status.shape()

    def statuses(self) -> StatusDocument:
        return status_document(
            [self.workers[n].status.shape() for n in sorted(self.workers)],
            self.problems,
            self.invalid_files,
        )

    # -- shutting down ----------------------------------------------------------------------
    async def shutdown(self, grace: float) -> None:
        """No new runs; in-flight runs stop at their next safe point, or are cancelled."""
        self.stop.set()
        tasks = list(self.tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                log.warning("shutdown.cancelled", task=task.get_name())
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await asyncio.to_thread(self.leases.close)  # hand every destination to the others
