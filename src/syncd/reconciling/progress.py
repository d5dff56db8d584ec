"""How far the run in flight is: counters the reconciler sets as it goes, read when asked.

The reconciler only assigns a few attributes at each step (and the readers' own row
counter is read in place), so following a run costs nothing on the hot path; the
status API, the status page and the `syncd_run_progress_ratio` gauge turn it into a
`shapes.Progress` when someone looks.

The ratio is what is done of what the plan said to do: contacts sent (upserts
submitted to SendGrid), removals confirmed, and contacts or leavers refused (never to
be sent: otherwise the bar stopped short of them), over contacts to send and to remove.
It is null until the plan is known (reading, diffing). The estimate of the time left
extrapolates the rate since sending began; it is null while nothing can be told, and
while the run only waits for SendGrid's jobs (their time is SendGrid's: extrapolated,
it grew as they ran).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from syncd.clock import Clock
from syncd.shapes import Phase, Progress, iso


class RowCounter(Protocol):
    """What the segment readers count as they go (`Staged`)."""

    rows: int


class ConfirmedCounter(Protocol):
    """What the outbox confirms as it goes (`Applied`)."""

    removed: int


@dataclass
class _Nothing:
    rows: int = 0
    removed: int = 0


JobsHook = Callable[[int, float | None], None]
"""(open jobs, when the oldest was submitted, or None)."""


@dataclass
class RunProgress:
    clock: Clock
    run_id: int | None = None
    phase: Phase = "reading"
    started_at: float = 0.0
    updated_at: float = 0.0
    to_send: int = 0
    sent: int = 0
    to_remove: int = 0
    unsent: int = 0
    """Contacts of the plan refused before their request: never sent, done for the bar."""
    unremoved: int = 0
    """Leavers of the plan given up on (`notRemoved`): done for the bar."""
    jobs_open: int = 0
    preparing: int = 0
    """Batches recorded in the outbox whose request has not been accepted yet."""
    work_started_at: float | None = None
    """When sending began: the estimate extrapolates from there."""
    held_until: Callable[[], float | None] = field(default=lambda: None, repr=False)
    """When the wait for SendGrid's rate limit under way ends, if any (`RateGate.held_until`
    of the run's key, set once the run has its client)."""
    on_jobs: JobsHook = field(default=lambda open_jobs, oldest: None, repr=False)
    """Told of the open jobs as they change (the metrics: `RunObserver.jobs_hook`)."""
    _removed_before: int = 0
    _rows: RowCounter = field(default_factory=_Nothing)
    _confirmed: ConfirmedCounter = field(default_factory=_Nothing)

    def __post_init__(self) -> None:
        self.started_at = self.updated_at = self.clock.now()

    def enter(self, phase: Phase) -> None:
        self.phase = phase
        self.updated_at = self.clock.now()
        if phase in ("sending", "removing") and self.work_started_at is None:
            self.work_started_at = self.updated_at

    def reading(self, rows: RowCounter) -> None:
        """Rows are counted by the reader itself, in its thread: read it in place."""
        self._rows = rows
        self.enter("reading")

    def planned(self, *, to_send: int, to_remove: int, confirmed: ConfirmedCounter) -> None:
        self.to_send, self.to_remove, self._confirmed = to_send, to_remove, confirmed
        # What finishing an earlier run's batches did before the plan is not the plan's.
        self.sent = self.unsent = self.unremoved = 0
        self._removed_before = confirmed.removed
        self.updated_at = self.clock.now()

    def gave_up(self, contacts: int, *, leavers: bool = False) -> None:
        """Contacts of the plan refused before their request, or leavers given up on."""
        if leavers:
            self.unremoved += contacts
        else:
            self.unsent += contacts

    def batch_prepared(self) -> None:
        self.preparing += 1

    def batch_submitted(self, contacts: int, *, upsert: bool) -> None:
        self.preparing = max(0, self.preparing - 1)
        if upsert:
            self.sent += contacts
        self.updated_at = self.clock.now()

    def jobs(self, open_jobs: int, oldest_submitted_at: float | None) -> None:
        self.jobs_open = open_jobs
        self.updated_at = self.clock.now()
        self.on_jobs(open_jobs, oldest_submitted_at)

    @property
    def removed(self) -> int:
        return self._confirmed.removed - self._removed_before

    @property
    def ratio(self) -> float | None:
        if self.phase in ("reading", "diffing"):
            return None
        total = self.to_send + self.to_remove
        if total == 0:
            return 1.0
        sent = min(self.sent + self.unsent, self.to_send)
        done = sent + min(self.removed + self.unremoved, self.to_remove)
        return min(1.0, done / total)

    def eta_seconds(self, now: float) -> float | None:
        ratio = self.ratio
        if self.phase == "waitingForJobs" or self.work_started_at is None:
            return None
        if ratio is None or ratio <= 0 or ratio >= 1:
            return None
        elapsed = max(0.0, now - self.work_started_at)
        return round(elapsed * (1 - ratio) / ratio, 1)

    def shape(self) -> Progress:
        now = self.clock.now()
        ratio = self.ratio
        return Progress(
            run_id=self.run_id,
            phase=self.phase,
            started_at=iso(self.started_at) or "",
            updated_at=iso(now if self.phase == "reading" else self.updated_at) or "",
            rows_read=self._rows.rows,
            to_send=self.to_send,
            sent=self.sent,
            to_remove=self.to_remove,
            removed=self.removed,
            batches_open=self.jobs_open + self.preparing,
            jobs_open=self.jobs_open,
            ratio=None if ratio is None else round(ratio, 4),
            eta_seconds=self.eta_seconds(now),
            rate_limited_until=iso(self.held_until()),
        )
