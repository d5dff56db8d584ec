"""Adjusts workers to the desired destinations (stop first, start later), bounds concurrency,
takes on-demand triggers and keeps every destination's status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from syncd.clock import Clock
from syncd.ledger import DestinationSummary
from syncd.loading import LoadedDestination
from syncd.logs import get_logger
from syncd.metrics import DESTINATION_STATES, Metrics
from syncd.scheduling.status import DestinationStatus, LastRun
from syncd.scheduling.timing import period
from syncd.scheduling.worker import Request, Runner, Worker

log = get_logger("syncd.scheduling")


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
        history: Mapping[str, DestinationSummary] | None = None,
    ) -> None:
        self.runner = runner
        self.metrics = metrics
        self.clock = clock
        self.slots = asyncio.Semaphore(max_concurrent_runs)
        self.backoff_max = backoff_max
        self.history = dict(history or {})
        self.stop = asyncio.Event()
        self.workers: dict[str, Worker] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.problems: list[str] = []
        self.invalid_files: list[str] = []
        self._requests = 0
        self._lock = asyncio.Lock()

    # -- adjusting to the catalog -------------------------------------------------------
    async def apply(
        self,
        destinations: Mapping[str, LoadedDestination],
        *,
        problems: list[str] | None = None,
        invalid_files: list[str] | None = None,
        stale: Mapping[str, list[str]] | None = None,
    ) -> None:
        async with self._lock:
            self.problems = problems or []
            self.invalid_files = invalid_files or []
            for name in [n for n in self.workers if n not in destinations]:
                await self._retire(name)
            for name, loaded in destinations.items():
                worker = self.workers.get(name)
                if worker is None:
                    self._start(loaded)
                elif worker.loaded.digest != loaded.digest:
                    log.info("schedule.changed", destination=name)
                    worker.update(loaded)
                    worker.status.file, worker.status.digest = loaded.path.name, loaded.digest
                self._publish_interval(loaded)
            for name, worker in self.workers.items():
                worker.status.file_problems = list((stale or {}).get(name, []))
            self._count_states()

    def _start(self, loaded: LoadedDestination) -> None:
        name = loaded.name
        self.metrics.start_destination(name)
        status = DestinationStatus(name, loaded.path.name, loaded.digest)
        past = self.history.pop(name, None)
        last_start = None
        resume = True
        if past is not None:
            status.last_success_at = past.last_success_at
            run = past.last_run
            status.last_run = LastRun(
                run.started_at, run.ended_at, run.outcome, run.trigger, run.counts, run.error
            )
            last_start = run.started_at
            resume = run.ended_at is None or past.open_batches > 0 or run.digest != loaded.digest
            if past.last_success_at:
                self.metrics.last_success.labels(destination=name).set(past.last_success_at)
        worker = Worker(
            loaded,
            self.runner,
            self.slots,
            self.clock,
            status,
            stop=self.stop,
            backoff_max=self.backoff_max,
            on_change=self._count_states,
            last_start=last_start,
            resume=resume,
        )
        self.workers[name] = worker
        self.tasks[name] = asyncio.create_task(worker.run(), name=f"worker:{name}")
        log.info("schedule.started", destination=name)

    async def _retire(self, name: str) -> None:
        """A removed file: stop without touching SendGrid (an open job is left for later)."""
        worker = self.workers.pop(name)
        task = self.tasks.pop(name)
        worker.halt.set()
        await asyncio.gather(task, return_exceptions=True)
        self.metrics.forget_destination(name)
        log.info("schedule.stopped", destination=name)

    def _publish_interval(self, loaded: LoadedDestination) -> None:
        """The expected gap between runs, for staleness alerts; 0 while suspended (no
        runs are expected, so none can be late)."""
        spec = loaded.definition.spec
        seconds = 0.0 if spec.suspend else period(spec.schedule, now=self.clock.now())
        self.metrics.refresh_interval.labels(destination=loaded.name).set(seconds)

    def _count_states(self) -> None:
        counts = dict.fromkeys(DESTINATION_STATES, 0)
        for worker in self.workers.values():
            counts[worker.status.state] = counts.get(worker.status.state, 0) + 1
        for state, count in counts.items():
            self.metrics.destinations.labels(state=state).set(count)

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

    # -- status ---------------------------------------------------------------------------
    def status(self, name: str) -> dict[str, Any]:
        worker = self.workers.get(name)
        if worker is None:
            raise UnknownDestination(name)
        return worker.status.as_json()

    def statuses(self) -> dict[str, Any]:
        return {
            "destinations": [self.workers[n].status.as_json() for n in sorted(self.workers)],
            "invalidFiles": self.invalid_files,
            "problems": self.problems,
        }

    # -- shutting down ----------------------------------------------------------------------
    async def shutdown(self, grace: float) -> None:
        """No new runs; in-flight runs stop at their next safe point, or are cancelled."""
        self.stop.set()
        tasks = list(self.tasks.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            log.warning("shutdown.cancelled", task=task.get_name())
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
