"""The shapes every document is made of: the base model, times, masks, problems, counts,
runs and their progress, and the closed sets of values (outcome, trigger, read path, phase)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

SchemaVersion = Literal["syncd/v1"]
SCHEMA_VERSION: SchemaVersion = "syncd/v1"


def iso(timestamp: float | None) -> str | None:
    """Epoch seconds → RFC 3339 UTC, whole seconds."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mask_email(email: str) -> str:
    """`ann.lee@example.com` → `a***@example.com`: enough to tell contacts apart in a review,
    not enough to read the address."""
    local, at, domain = email.partition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"


class Shape(BaseModel):
    """camelCase on the wire, snake_case in Python; frozen; unknown keys refused."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )

    def wire(self) -> dict[str, Any]:
        """The JSON object as sent."""
        return self.model_dump(by_alias=True, mode="json")


class Problem(Shape):
    """One thing wrong with a destination file (line and column null: the whole file)."""

    file: str
    line: int | None = None
    column: int | None = None
    message: str


class Counts(Shape):
    """What a run (or a plan) counted. Older ledgers lack some: they read as 0."""

    rows: int = 0
    profiles: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    upserted: int = 0
    resumed: int = 0
    """Of `upserted`, contacts of batches an earlier run left open (a crash, a job that
    outlived its run), acknowledged by this run before its diff, which then counts them
    among the `unchanged`: the one run they landed in, not a second send."""
    removed: int = 0
    rejected: int = 0
    refused: int = 0
    pending_removals: int = 0
    forgotten: int = 0
    """Rows dropped because their address was erased (`syncd forget`)."""
    kept: int = 0
    """Leavers left on the list and dropped from the ledger (`onLeave: keep`)."""
    awaiting_search: int = 0
    """Contacts of jobs SendGrid ended with errors it did not name, not shown applied by
    its search yet (it lags): their batches stay open, looked at again on the next run."""
    moved_away: int = 0
    """Leavers syncd had put on the destination's former list (`listId` changed): dropped
    from the ledger, taken off neither list; not counted in `gone`."""
    not_removed: int = 0
    """Leavers syncd gave up taking off the list (`syncd explain` says why), still on it as
    far as syncd knows: counted by every run, not only the one that gave up."""
    held: int = 0
    """Differing contacts waiting on a batch an earlier run began (a crash, say: the next
    sync sends it, or polls its job), or back in the segment while SendGrid may still apply
    their removal (re-added once search shows it applied, or after the removal's grace);
    neither new, changed nor unchanged."""

    @classmethod
    def from_ledger(cls, counts: dict[str, int]) -> Counts:
        """The counts a run recorded (snake_case keys); unknown keys are ignored."""
        known = set(cls.model_fields)
        return cls(**{k: int(v) for k, v in counts.items() if k in known})


Outcome = Literal["success", "temporary", "permanent", "guard", "unexpected"]
Trigger = Literal["schedule", "manual", "once", "audit", "recheck", "plan", "forget"]
ReadPath = Literal["known", "verified", "staged"]


class Run(Shape):
    id: int | None = None
    trigger: str
    started_at: str
    ended_at: str | None = None
    duration_seconds: float | None = None
    outcome: Outcome | None = None
    """None while the run is in progress."""
    read: ReadPath | None = None
    counts: Counts = Field(default_factory=Counts)
    error: str | None = None


Phase = Literal["reading", "diffing", "sending", "waitingForJobs", "removing", "auditing"]


class Progress(Shape):
    """The run in flight."""

    run_id: int | None = None
    """The ledger's id of the run (null for a dry run, or before it is recorded)."""
    phase: Phase
    started_at: str
    updated_at: str
    rows_read: int = 0
    to_send: int = 0
    sent: int = 0
    to_remove: int = 0
    removed: int = 0
    batches_open: int = 0
    jobs_open: int = 0
    ratio: float | None = None
    """0..1 when it can be told (sending, removing), else null."""
    eta_seconds: float | None = None
    rate_limited_until: str | None = None
    """While its requests wait for SendGrid's rate limit (a 429, or a window spent): when
    that wait ends."""
