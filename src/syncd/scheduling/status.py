"""A destination's status, in the spirit of Kubernetes conditions (Ready, Reconciling, Stalled)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from syncd.reconciling import RunReport


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Condition:
    type: str
    status: str
    reason: str
    message: str
    since: float

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": iso(self.since),
        }


@dataclass
class LastRun:
    started_at: float
    ended_at: float | None
    outcome: str | None
    trigger: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "startedAt": iso(self.started_at),
            "endedAt": iso(self.ended_at),
            "outcome": self.outcome,
            "trigger": self.trigger,
            "counts": self.counts,
            "error": self.error,
        }


@dataclass
class DestinationStatus:
    name: str
    file: str
    digest: str
    suspended: bool = False
    owned: bool = False
    running: bool = False
    outcome_state: str = "pending"
    """What the last finished run left: pending, ready, retrying, blocked or stalled."""
    next_run_at: float | None = None
    last_run: LastRun | None = None
    last_success_at: float | None = None
    consecutive_failures: int = 0
    last_handled_request: int = 0
    file_problems: list[str] = field(default_factory=list)
    conditions: dict[str, Condition] = field(default_factory=dict)

    def set(self, kind: str, status: bool, reason: str, message: str, now: float) -> None:
        text = "True" if status else "False"
        current = self.conditions.get(kind)
        since = current.since if current and current.status == text else now
        self.conditions[kind] = Condition(kind, text, reason, message, since)

    @property
    def state(self) -> str:
        if not self.owned:
            return "standby"
        if self.running:
            return "reconciling"
        if self.suspended:
            return "suspended"
        return self.outcome_state

    def started(self, trigger: str, now: float) -> None:
        self.running = True
        self.last_run = LastRun(now, None, None, trigger)
        self.set("Reconciling", True, "Progressing", f"{trigger} run in progress", now)

    def finished(self, report: RunReport, now: float) -> None:
        assert self.last_run is not None
        self.last_run.ended_at = now
        self.last_run.outcome = report.outcome
        self.last_run.counts = report.counts()
        self.last_run.error = report.error
        self.running = False
        self.set("Reconciling", False, "Idle", "no run in progress", now)
        if report.outcome == "success":
            self.last_success_at = now
            self.consecutive_failures = 0
            self.outcome_state = "ready"
            self.set("Ready", True, "Succeeded", "the list equals the segments", now)
            self.set("Stalled", False, "Succeeded", "", now)
            return
        self.consecutive_failures += 1
        message = report.error or report.outcome
        if report.outcome == "guard":
            self.outcome_state = "blocked"
            self.set("Ready", False, "GuardTripped", message, now)
            self.set("Stalled", False, "GuardTripped", "re-checked on every refresh", now)
        elif report.outcome == "permanent":
            self.outcome_state = "stalled"
            self.set("Ready", False, "PermanentFailure", message, now)
            waits = (
                "re-checked by itself on a slow schedule (SYNCD_STALL_RECHECK), or at once "
                "when the file changes or on demand"
                if report.recheck
                else "waiting for the file to change or an on-demand run"
            )
            self.set("Stalled", True, "PermanentFailure", waits, now)
        else:
            self.outcome_state = "retrying"
            self.set("Ready", False, "RetryingAfterFailure", message, now)
            self.set("Stalled", False, "RetryingAfterFailure", "retried with backoff", now)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "digest": self.digest,
            "suspended": self.suspended,
            "owned": self.owned,
            "state": self.state,
            "conditions": [c.as_json() for c in self.conditions.values()],
            "nextRunAt": iso(self.next_run_at),
            "lastRun": self.last_run.as_json() if self.last_run else None,
            "lastSuccessAt": iso(self.last_success_at),
            "consecutiveFailures": self.consecutive_failures,
            "lastHandledRequest": self.last_handled_request,
            "fileProblems": self.file_problems,
        }
