"""Every metric syncd exports, in one place, against an injected registry.

Names follow Prometheus conventions (base units, `_total` for counters). Label
values are bounded: destination names, endpoint templates, outcomes; never emails.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from syncd import __version__

OUTCOMES = ("success", "temporary", "permanent", "guard", "unexpected")
CONTACT_ACTIONS = ("upserted", "removed", "rejected", "unchanged")
AUTH_FAILURES = ("missing", "invalid", "malformed")
DESTINATION_STATES = (
    "pending",  # never run yet
    "standby",  # another replica owns it (shared PostgreSQL ledger)
    "ready",  # the last run succeeded
    "reconciling",  # a run is in progress
    "retrying",  # the last run failed temporarily; retried with backoff
    "blocked",  # a guard held the last run back; re-checked on every refresh
    "stalled",  # the last run failed permanently; waits for the file or a person
    "suspended",  # spec.suspend is true
)


DRIFT_KINDS = ("missing", "extra", "stale", "unacknowledged")


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.build_info = Info("syncd_build", "Version of the running syncd.", registry=r)
        self.build_info.info({"version": __version__})

        self.reconcile_total = Counter(
            "syncd_reconcile_total",
            "Runs per destination by outcome.",
            ["destination", "outcome"],
            registry=r,
        )
        self.reconcile_duration = Histogram(
            "syncd_reconcile_duration_seconds",
            "Duration of a run, from reading the source to the last acknowledged job.",
            ["destination"],
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600, 7200),
            registry=r,
        )
        self.last_success = Gauge(
            "syncd_last_success_timestamp_seconds",
            "When the destination's list last equalled its segment (end of a successful run).",
            ["destination"],
            registry=r,
        )
        self.last_attempt = Gauge(
            "syncd_last_attempt_timestamp_seconds",
            "When the destination's last run ended, whatever its outcome.",
            ["destination"],
            registry=r,
        )
        self.refresh_interval = Gauge(
            "syncd_refresh_interval_seconds",
            "Expected seconds between two runs of the destination (its schedule's period).",
            ["destination"],
            registry=r,
        )
        self.contacts_total = Counter(
            "syncd_contacts_total",
            "Contacts handled by action: upserted, removed, rejected, unchanged.",
            ["destination", "action"],
            registry=r,
        )
        self.segment_profiles = Gauge(
            "syncd_segment_profiles",
            "Distinct profiles in the destination's segments at the last run.",
            ["destination"],
            registry=r,
        )
        self.sendgrid_requests = Counter(
            "syncd_sendgrid_requests_total",
            "Requests to SendGrid by endpoint and HTTP status (code 0: no response).",
            ["endpoint", "code"],
            registry=r,
        )
        self.sendgrid_request_duration = Histogram(
            "syncd_sendgrid_request_duration_seconds",
            "Duration of SendGrid requests by endpoint.",
            ["endpoint"],
            registry=r,
        )
        self.rate_limit_remaining = Gauge(
            "syncd_sendgrid_rate_limit_remaining",
            "X-RateLimit-Remaining of the last response, per endpoint.",
            ["endpoint"],
            registry=r,
        )
        self.rate_limit_wait = Counter(
            "syncd_sendgrid_rate_limit_wait_seconds_total",
            "Seconds spent waiting for SendGrid's rate-limit window to reset.",
            ["endpoint"],
            registry=r,
        )
        self.destinations = Gauge(
            "syncd_destinations",
            "Destinations by state.",
            ["state"],
            registry=r,
        )
        self.config_reloads = Counter(
            "syncd_config_reloads_total",
            "Scans of the destinations directory that found a change, by result.",
            ["result"],
            registry=r,
        )
        self.config_last_reload_success = Gauge(
            "syncd_config_last_reload_success_timestamp_seconds",
            "When the destinations directory was last loaded with every file valid.",
            registry=r,
        )
        self.config_invalid_files = Gauge(
            "syncd_config_invalid_files",
            "Destination files currently refused.",
            registry=r,
        )
        self.open_jobs = Gauge(
            "syncd_open_jobs",
            "SendGrid jobs submitted and not yet finished, per destination.",
            ["destination"],
            registry=r,
        )
        self.oldest_open_job_age = Gauge(
            "syncd_oldest_open_job_age_seconds",
            "Age of the oldest unfinished SendGrid job, per destination (0: none).",
            ["destination"],
            registry=r,
        )
        self.leader = Gauge(
            "syncd_leader",
            "1 when this replica holds the destination's lock (shared PostgreSQL ledger).",
            ["destination"],
            registry=r,
        )
        self.run_progress = Gauge(
            "syncd_run_progress_ratio",
            "How far the run in flight is, 0 to 1: contacts sent and removals confirmed over "
            "those planned (0 until the plan is known); no series between runs.",
            ["destination"],
            registry=r,
        )
        self.admin_auth_failures = Counter(
            "syncd_admin_auth_failures_total",
            "Admin requests refused for their token: missing, invalid, or a malformed header.",
            ["reason"],
            registry=r,
        )
        self.connections_refused = Counter(
            "syncd_http_connections_refused_total",
            "Connections closed at once because the listener had its maximum open.",
            ["listener"],
            registry=r,
        )
        self.drift_contacts = Gauge(
            "syncd_drift_contacts",
            "Contacts the last audit found drifted, by kind: missing, extra, stale, "
            "unacknowledged (counted before any heal).",
            ["destination", "kind"],
            registry=r,
        )
        self.drift_healed = Gauge(
            "syncd_drift_healed",
            "1 when the last audit healed everything it found (heal, prune), else 0.",
            ["destination"],
            registry=r,
        )
        self.audit_last_success = Gauge(
            "syncd_audit_last_success_timestamp_seconds",
            "When the destination's last successful audit compared the list with the segment.",
            ["destination"],
            registry=r,
        )
        self.audit_interval = Gauge(
            "syncd_audit_interval_seconds",
            "Expected seconds between two audits of the destination (spec.audit.schedule).",
            ["destination"],
            registry=r,
        )
        self.audit_runs = Counter(
            "syncd_audit_runs_total",
            "Audits per destination by outcome.",
            ["destination", "outcome"],
            registry=r,
        )
        for state in DESTINATION_STATES:
            self.destinations.labels(state=state).set(0)
        for reason in AUTH_FAILURES:
            self.admin_auth_failures.labels(reason=reason)

    def start_destination(self, name: str) -> None:
        """Create every per-destination counter at 0, so the first increment is a visible
        increase to `rate()`/`increase()` rather than a series appearing from nowhere."""
        for outcome in OUTCOMES:
            self.reconcile_total.labels(destination=name, outcome=outcome)
        for action in CONTACT_ACTIONS:
            self.contacts_total.labels(destination=name, action=action)
        for outcome in OUTCOMES:
            self.audit_runs.labels(destination=name, outcome=outcome)

    def forget_destination(self, name: str) -> None:
        """Drop a removed destination's series so dashboards do not show ghosts."""
        for metric in (
            self.last_success,
            self.last_attempt,
            self.refresh_interval,
            self.segment_profiles,
            self.open_jobs,
            self.oldest_open_job_age,
            self.leader,
            self.run_progress,
            self.audit_last_success,
            self.audit_interval,
            self.drift_healed,
        ):
            try:
                metric.remove(name)
            except KeyError:
                continue
        for kind in DRIFT_KINDS:
            try:
                self.drift_contacts.remove(name, kind)
            except KeyError:
                continue
