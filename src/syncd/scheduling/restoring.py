"""What the ledger remembers of a destination, and the status and gauges restored from it.

At start-up (and when a destination's file appears) the scheduler gives each new
worker the destination's past: its status shows the kept runs and the last audit's
drift, and its gauges read as the ledger left them, before any new run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from syncd.ledger import DestinationSummary, DriftRecord, RunRecord
from syncd.metrics import Metrics
from syncd.scheduling.drift import drift_from_record, drift_gauges
from syncd.scheduling.status import DestinationStatus


@dataclass(frozen=True)
class Past:
    """What the ledger remembers of a destination: where it stands, and its kept runs."""

    summary: DestinationSummary
    runs: Sequence[RunRecord] = ()
    drift: DriftRecord | None = None


def restore(status: DestinationStatus, past: Past, metrics: Metrics) -> None:
    """The status and the gauges as the ledger left them, before any new run."""
    summary = past.summary
    status.restore(past.runs or [summary.last_run], last_success_at=summary.last_success_at)
    name = status.name
    if summary.last_success_at:
        metrics.last_success.labels(destination=name).set(summary.last_success_at)
    if summary.last_run.ended_at is not None:
        metrics.last_attempt.labels(destination=name).set(summary.last_run.ended_at)
        profiles = summary.last_run.counts.get("profiles", 0)
        metrics.segment_profiles.labels(destination=name).set(profiles)
    metrics.open_jobs.labels(destination=name).set(summary.open_batches)
    if past.drift is not None:
        drift = drift_from_record(past.drift)
        status.show_drift(drift, past.drift.audited_at)
        drift_gauges(metrics, name, drift)
        metrics.audit_last_success.labels(destination=name).set(past.drift.audited_at)
