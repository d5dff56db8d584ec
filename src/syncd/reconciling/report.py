"""What one run did, for the scheduler, the CLI, the ledger and the logs."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncd.ledger import Rejection
from syncd.planning import GuardStop, Plan
from syncd.reconciling.context import Applied
from syncd.reconciling.staging import Staged
from syncd.shapes import Examples, Outcome, ReadPath, Trigger


@dataclass
class Preview:
    """What a dry run found it would send."""

    adds: int = 0
    updates: int = 0


@dataclass
class RunReport:
    destination: str
    trigger: Trigger
    outcome: Outcome = "unexpected"
    error: str | None = None
    duration: float = 0.0
    started: float = 0.0
    """The event loop's time at the start of the run."""
    planned_after: float | None = None
    """Seconds from the start to the plan: the read and the diff (what a plan adds to)."""
    run_id: int | None = None
    """The ledger's id of the run (None for a dry run, or a run that could not be recorded)."""
    started_at: float = 0.0
    """Epoch seconds the run was recorded as started at (0: not recorded)."""
    ended_at: float = 0.0
    """Epoch seconds the run ended at, as the ledger records it: the status, the metrics and
    the ledger all show this one time, before a restart and after."""
    plan: Plan | None = None
    staged: Staged = field(default_factory=Staged)
    applied: Applied = field(default_factory=Applied)
    rejections: list[Rejection] = field(default_factory=list)
    moved_away: list[Rejection] = field(default_factory=list)
    """Leavers of the former list (`listId` changed), forgotten: recorded and listed with
    the rejections, counted as `moved_away` (as a plan counts them), not as rejected."""
    not_removed: int = 0
    """Leavers syncd gave up taking off the list, still remembered (`notRemoved`)."""
    preview: Preview | None = None
    examples: Examples = field(default_factory=Examples)
    """A dry run's first contacts of each kind (addresses whole: mask them to show them)."""
    guard: GuardStop | None = None
    """The guard that stopped the run (outcome `guard`), when it says which it is."""
    verified: bool = False
    """The sources were found equal to what SendGrid has without staging them."""
    read: ReadPath | None = None
    """How the segments were read: known (in sync by their bytes, nothing parsed),
    verified (rows fingerprinted and summed) or staged (the full diff)."""
    retry_after: float | None = None
    """For a temporary failure: when SendGrid said to come back, in seconds."""
    recheck: bool = False
    """For a permanent failure: worth re-checking on a slow schedule (a SendGrid stall)."""
    requeue_after: float | None = None
    """For a success with removals still waiting on SendGrid's search: run again this soon."""
    list_contacts: int | None = None
    """The list's `contact_count` at the preflight (SendGrid's, eventually consistent)."""
    expected_contacts: int | None = None
    """The contacts the ledger holds acknowledged at the preflight: what the list should
    count. Compared with `list_contacts` to start an audit early (spec.audit)."""

    @property
    def not_carried_out(self) -> list[Rejection]:
        """Every row and leaver the run did not carry out, with why: what is recorded."""
        return [*self.staged.rejections, *self.rejections, *self.moved_away]

    @property
    def rejected(self) -> int:
        return self.staged.rejected + len(self.rejections)

    def counts(self) -> dict[str, int]:
        diff = self.plan.diff if self.plan else None
        return {
            "rows": self.staged.rows,
            "profiles": self.staged.profiles,
            "new": diff.new if diff else 0,
            "changed": diff.changed if diff else 0,
            "unchanged": diff.unchanged if diff else 0,
            "gone": diff.gone if diff else 0,
            # `onLeave: keep`: the leavers stay on the list, dropped from the ledger.
            "kept": diff.gone if diff and self.plan and self.plan.removal_action == "forget" else 0,
            "moved_away": diff.moved_away if diff else 0,
            "held": diff.held if diff else 0,
            "upserted": self.applied.upserted,
            "resumed": self.applied.resumed,
            "removed": self.applied.removed,
            "rejected": self.rejected,
            "forgotten": self.staged.forgotten,
            "refused": self.applied.refused,
            "pending_removals": self.applied.pending_removals,
            "awaiting_search": self.applied.awaiting_search,
            "not_removed": self.not_removed,
        }
