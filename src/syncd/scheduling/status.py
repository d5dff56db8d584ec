"""A destination's status, in the spirit of Kubernetes conditions (Ready, Reconciling, Stalled,
FileValid), rendered as `shapes.DestinationStatus`.

The status is a small state machine fed by runs as they end. After a restart the same
machine is fed the runs the ledger kept, oldest first, with the times the ledger
recorded: states, conditions and their transition times, the last run and the last
success come back as they were, before any new run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

from syncd.ledger import RunRecord
from syncd.loading import Problem as FileProblem
from syncd.reconciling import RunProgress
from syncd.scheduling.drift import drift_from_report, drifted
from syncd.scheduling.readiness import not_ended, ready_message
from syncd.shapes import (
    AuditReport,
    Condition,
    Counts,
    Drift,
    Outcome,
    Problem,
    ReadPath,
    Run,
    State,
    Trigger,
    iso,
)
from syncd.shapes import DestinationStatus as StatusShape

_OUTCOMES: dict[str, Outcome] = {
    "success": "success",
    "guard": "guard",
    "permanent": "permanent",
    "temporary": "temporary",
    "unexpected": "unexpected",
}

_OUTCOME_STATES: dict[str, State] = {
    "success": "ready",
    "guard": "blocked",
    "permanent": "stalled",
    "temporary": "retrying",
    "unexpected": "retrying",
}


@dataclass
class _Condition:
    type: str
    status: bool
    reason: str
    message: str
    since: float

    def shape(self) -> Condition:
        return Condition(
            type=self.type,
            status="True" if self.status else "False",
            reason=self.reason,
            message=self.message,
            last_transition_time=iso(self.since),
        )


@dataclass
class LastRun:
    started_at: float
    ended_at: float | None
    outcome: str | None
    trigger: str
    counts: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None
    id: int | None = None
    read: ReadPath | None = None

    @classmethod
    def from_record(cls, run: RunRecord) -> LastRun:
        return cls(**{f.name: getattr(run, f.name) for f in fields(cls)})

    def shape(self) -> Run:
        return history_shape(self)


def history_shape(run: RunRecord | LastRun) -> Run:
    """One run as the API and the CLI show it (the ledger's runs and the live one alike)."""
    ended = run.ended_at
    return Run(
        id=run.id,
        trigger=run.trigger,
        started_at=iso(run.started_at) or "",
        ended_at=iso(ended),
        duration_seconds=None if ended is None else round(max(0.0, ended - run.started_at), 3),
        outcome=_OUTCOMES.get(run.outcome or ""),
        counts=Counts.from_ledger(dict(run.counts)),
        error=run.error,
        read=run.read,
    )


def problem_shape(problem: FileProblem) -> Problem:
    return Problem(
        file=problem.file, line=problem.line, column=problem.column, message=problem.message
    )


@dataclass
class DestinationStatus:
    name: str
    file: str
    digest: str
    display_name: str | None = None
    suspended: bool = False
    owned: bool = False
    running: bool = False
    outcome_state: State = "pending"
    """What the last finished run left: pending, ready, retrying, blocked or stalled."""
    next_run_at: float | None = None
    last_run: LastRun | None = None
    last_success_at: float | None = None
    consecutive_failures: int = 0
    last_handled_request: int = 0
    last_handled_run: int | None = None
    file_problems: list[Problem] = field(default_factory=list)
    conditions: dict[str, _Condition] = field(default_factory=dict)
    live: RunProgress | None = None
    """The run in flight, followed as it goes."""
    in_flight: Trigger | None = None
    """What set the run (or audit) in flight going: a sync asked for meanwhile is
    handled by a run after it (`InFlight`)."""
    drift: Drift | None = None
    """What the last audit found."""

    def set(self, kind: str, status: bool, reason: str, message: str, now: float) -> None:
        current = self.conditions.get(kind)
        since = current.since if current and current.status == status else now
        self.conditions[kind] = _Condition(kind, status, reason, message, since)

    @property
    def state(self) -> State:
        if not self.owned:
            return "standby"
        if self.running:
            return "reconciling"
        if self.suspended:
            return "suspended"
        return self.outcome_state

    @property
    def pending_removals(self) -> int:
        counts = self.last_run.counts if self.last_run else {}
        return int(counts.get("pending_removals", 0))

    def file_checked(self, problems: Sequence[Problem], now: float) -> None:
        """The file as last read: valid, or invalid with its last good version running."""
        self.file_problems = list(problems)
        if problems:
            self.set(
                "FileValid",
                False,
                "FileInvalid",
                "the file is invalid; its last good version runs until it is fixed",
                now,
            )
        else:
            self.set("FileValid", True, "Loaded", "the file is valid and running", now)

    def started(self, trigger: Trigger, now: float, live: RunProgress | None = None) -> None:
        self.running = True
        self.live, self.in_flight = live, trigger
        self.last_run = LastRun(now, None, None, trigger)
        self.set("Reconciling", True, "Progressing", f"{trigger} run in progress", now)

    def finished(
        self,
        outcome: str,
        counts: Mapping[str, int],
        error: str | None,
        now: float,
        run_id: int | None = None,
        recheck: bool = False,
        read: ReadPath | None = None,
    ) -> None:
        """`recheck`: a permanent failure SendGrid caused, tried again by itself later."""
        if self.last_run is None:
            self.last_run = LastRun(now, None, None, "schedule")
        self.last_run.ended_at = now
        self.last_run.outcome = outcome
        self.last_run.counts = dict(counts)
        self.last_run.error = error
        self.last_run.id = run_id if run_id is not None else self.last_run.id
        self.last_run.read = read
        self.running = False
        self.live = self.in_flight = None
        self.set("Reconciling", False, "Idle", "no run in progress", now)
        self.outcome_state = _OUTCOME_STATES.get(outcome, "retrying")
        if outcome == "success":
            self.last_success_at = now
            self.consecutive_failures = 0
            self.set("Ready", True, "Succeeded", ready_message(self.name, counts), now)
            self.set("Stalled", False, "Succeeded", "", now)
            return
        self.consecutive_failures += 1
        message = error or outcome
        if outcome == "guard":
            self.set("Ready", False, "GuardTripped", message, now)
            self.set("Stalled", False, "GuardTripped", "re-checked on every refresh", now)
        elif outcome == "permanent":
            self.set("Ready", False, "PermanentFailure", message, now)
            waits = (
                "re-checked by itself on a slow schedule (SYNCD_STALL_RECHECK), or at once "
                "when the file changes or on demand"
                if recheck
                else "waiting for the file to change or an on-demand run"
            )
            self.set("Stalled", True, "PermanentFailure", waits, now)
        else:
            self.set("Ready", False, "RetryingAfterFailure", message, now)
            self.set("Stalled", False, "RetryingAfterFailure", "retried with backoff", now)

    def audit_started(self, now: float, live: RunProgress) -> None:
        self.running = True
        self.live, self.in_flight = live, "audit"
        self.set("Reconciling", True, "Auditing", "audit in progress", now)

    def audit_finished(self, report: AuditReport, now: float) -> None:
        self.running = False
        self.live = self.in_flight = None
        self.set("Reconciling", False, "Idle", "no run in progress", now)
        found = drift_from_report(report)
        if found is not None:
            self.show_drift(found, now)

    def show_drift(self, found: Drift, now: float) -> None:
        self.drift = found
        status, reason, message = drifted(found)
        self.set("Drifted", status, reason, message, now)

    def restore(self, runs: Sequence[RunRecord], *, last_success_at: float | None) -> None:
        """Replay the runs the ledger kept (any order), as they ended: the status comes back
        as the daemon that saw them left it. A run without an end (the process died in it)
        counts as the last run, its outcome unknown; it is run again at once.
        `last_success_at` is the ledger's, also when that run was pruned from `runs`."""
        for run in sorted(runs, key=lambda r: r.id):
            if run.trigger == "audit":
                continue  # its findings are `drift`'s; the state follows the runs
            self.last_run = LastRun.from_record(run)
            if run.ended_at is not None and run.outcome is not None:
                self.finished(
                    run.outcome, run.counts, run.error, run.ended_at, run.id, read=run.read
                )
                self.last_run = LastRun.from_record(run)
        self.last_success_at = last_success_at
        if self.last_run is not None and self.last_run.ended_at is None:
            # The Ready of the run before it no longer holds: what this one began (a batch
            # recorded, leavers to take off) may be left undone.
            self.set(
                "Ready", False, "RunNotEnded", not_ended(self.last_run.id), self.last_run.started_at
            )

    def file_changed(self, file: str, digest: str, display_name: str | None) -> None:
        """A new version of the destination's file was taken."""
        self.file, self.digest, self.display_name = file, digest, display_name

    def shape(self) -> StatusShape:
        live = self.live if self.running else None
        if live is not None and self.last_run is not None and self.last_run.id is None:
            self.last_run.id = live.run_id  # known once the ledger recorded the run
        return StatusShape(
            name=self.name,
            display_name=self.display_name,
            file=self.file,
            digest=self.digest,
            state=self.state,
            suspended=self.suspended,
            owned=self.owned,
            conditions=[c.shape() for c in sorted(self.conditions.values(), key=_in_order)],
            next_run_at=iso(self.next_run_at),
            last_run=self.last_run.shape() if self.last_run else None,
            last_success_at=iso(self.last_success_at),
            consecutive_failures=self.consecutive_failures,
            last_handled_request=self.last_handled_request,
            last_handled_run=self.last_handled_run,
            file_problems=self.file_problems,
            progress=live.shape() if live is not None else None,
            pending_removals=self.pending_removals,
            drift=self.drift,
        )


CONDITION_ORDER = ("FileValid", "Reconciling", "Ready", "Stalled", "Drifted")
"""The order conditions are shown in, whichever was set first (a restart restores the
runs' before the file's)."""


def _in_order(condition: _Condition) -> int:
    kind = condition.type
    return CONDITION_ORDER.index(kind) if kind in CONDITION_ORDER else len(CONDITION_ORDER)
