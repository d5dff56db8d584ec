"""What a run tells the outside: metrics as it goes, one canonical log line at the end."""

from __future__ import annotations

from typing import Any

from syncd.clock import Clock
from syncd.logs import get_logger
from syncd.metrics import Metrics
from syncd.reconciling.progress import JobsHook
from syncd.reconciling.report import RunReport

log = get_logger("syncd.reconciling")


class RunObserver:
    def __init__(self, metrics: Metrics, clock: Clock) -> None:
        self.metrics = metrics
        self.clock = clock
        self._oldest_job: dict[str, float] = {}

    def jobs_hook(self, name: str) -> JobsHook:
        """Keeps the open-jobs gauges current while a run waits on SendGrid; the age is
        computed at scrape time, so it grows while a job stays pending."""
        m = self.metrics
        self._oldest_job.setdefault(name, 0.0)
        m.oldest_open_job_age.labels(destination=name).set_function(
            lambda: self.clock.now() - self._oldest_job[name] if self._oldest_job[name] else 0
        )

        def jobs_changed(open_jobs: int, oldest_submitted_at: float | None) -> None:
            m.open_jobs.labels(destination=name).set(open_jobs)
            self._oldest_job[name] = oldest_submitted_at or 0.0

        return jobs_changed

    def finished(self, report: RunReport) -> None:
        name = report.destination
        m = self.metrics
        m.reconcile_total.labels(destination=name, outcome=report.outcome).inc()
        m.reconcile_duration.labels(destination=name).observe(report.duration)
        # One timestamp for both (the export-failing alert compares them), the one the
        # ledger records: restored after a restart, the gauges show the same values.
        now = report.ended_at or self.clock.now()
        m.last_attempt.labels(destination=name).set(now)
        if report.outcome == "success":
            m.last_success.labels(destination=name).set(now)
        counts = report.counts()
        m.segment_profiles.labels(destination=name).set(counts["profiles"])
        for action in ("upserted", "removed", "rejected", "unchanged"):
            if counts[action]:
                m.contacts_total.labels(destination=name, action=action).inc(counts[action])
        fields: dict[str, Any] = {
            "destination": name,
            "trigger": report.trigger,
            "outcome": report.outcome,
            "duration_s": round(report.duration, 3),
            "planned_s": round(report.planned_after, 3) if report.planned_after else None,
            "verified": report.verified,
            "read": report.read,
            **counts,
        }
        if report.error:
            fields["error"] = report.error
        log.info("reconcile.done", **fields)
