"""The scheduler's gauges: the expected gap between runs, the states, the runs in flight.

Set whenever the scheduler adjusts to the catalog, changes ownership or hears from a
worker that something changed, so the metrics always say what the workers are doing;
the progress of a run is read at scrape time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from functools import partial

from syncd.clock import Clock
from syncd.loading import LoadedDestination
from syncd.metrics import DESTINATION_STATES, Metrics
from syncd.reconciling import RunProgress
from syncd.scheduling.timing import period
from syncd.scheduling.worker import Worker


def publish_interval(
    metrics: Metrics, clock: Clock, loaded: LoadedDestination, *, with_audits: bool
) -> None:
    """The expected gap between runs, for staleness alerts; 0 while suspended (no
    runs are expected, so none can be late)."""
    spec = loaded.definition.spec
    seconds = 0.0 if spec.suspend else period(spec.schedule, now=clock.now())
    metrics.refresh_interval.labels(destination=loaded.name).set(seconds)
    if with_audits:
        audits = 0.0 if spec.suspend else period(spec.audit.schedule, now=clock.now())
        metrics.audit_interval.labels(destination=loaded.name).set(audits)


def count_states(metrics: Metrics, workers: Mapping[str, Worker]) -> None:
    """How many destinations are in each state, and the progress of the runs in flight."""
    counts = dict.fromkeys(DESTINATION_STATES, 0)
    for worker in workers.values():
        counts[worker.status.state] = counts.get(worker.status.state, 0) + 1
    for state, count in counts.items():
        metrics.destinations.labels(state=state).set(count)
    follow_runs(metrics, workers)


def follow_runs(metrics: Metrics, workers: Mapping[str, Worker]) -> None:
    """`syncd_run_progress_ratio` for each run in flight, read at scrape time; the
    series goes when the run ends."""
    gauge = metrics.run_progress
    for name, worker in workers.items():
        live = worker.status.live if worker.status.running else None
        if live is None:
            with contextlib.suppress(KeyError):
                gauge.remove(name)
        else:
            gauge.labels(destination=name).set_function(partial(_ratio, live))


def _ratio(live: RunProgress) -> float:
    return live.ratio or 0.0
