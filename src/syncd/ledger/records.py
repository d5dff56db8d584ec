"""What the ledger stores and returns, independent of the backend."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, NamedTuple

from syncd.shapes import ReadPath

BatchKind = Literal["upsert", "remove", "delete"]
BatchState = Literal["prepared", "submitted"]
BatchOutcome = Literal["applied", "partlyRejected", "notApplied", "accepted", "failed"]
"""How a batch ended: an upsert job applied (some contacts rejected, or none applied), a
removal accepted by SendGrid (confirmed by search later) or failed."""
Departure = Literal["removed", "kept", "notRemoved"]
"""How a contact left the ledger: taken off the list, left on it (onLeave: keep), or
given up on (syncd could not take it off: `notRemoved`, with its rejection saying why)."""
"""How a contact left the ledger: taken off the list (or found gone), or forgotten
(onLeave: keep)."""

# A contact SendGrid rejected this many times with the same payload is reported
# as rejected instead of being sent again, until its payload changes.
RETRY_BUDGET = 3


# The three records made per contact on the sending path are named tuples: as immutable
# as a frozen dataclass, and about three times cheaper to make (a million of each at 1M).
class StagedContact(NamedTuple):
    """One desired contact of this run, built and different from what SendGrid has."""

    email: str
    fingerprint: int
    payload: bytes
    segment: int
    row: int
    # Not acknowledged before (an add rather than an update).
    is_new: bool
    # Fingerprint of the source values it was built from.
    raw: int


class StaleRow(NamedTuple):
    """A snapshot row whose source values are not those acknowledged: it must be built."""

    email: str
    raw: int
    values: bytes
    segment: int
    row: int
    known: bool
    acked_fingerprint: int | None
    acked_binding: int | None


class OutboxItem(NamedTuple):
    email: str
    fingerprint: int = 0
    binding: int = 0
    body: bytes = b""
    segment: str = ""
    row: int = 0
    raw: int = 0


@dataclass(frozen=True)
class Batch:
    id: int
    kind: BatchKind
    state: BatchState
    list_id: str
    job_id: str | None
    created_at: float
    submitted_at: float | None
    size: int
    sends: int = 0
    """How many times its body went out (crashes, ambiguous answers, unknown jobs)."""
    unknown_since: float | None = None
    """When SendGrid first said it did not know the batch's job (404 on polling)."""

    def again(self, size: int) -> Batch:
        """The same batch, prepared to go (again) with `size` items."""
        return replace(self, state="prepared", job_id=None, submitted_at=None, size=size)


@dataclass(frozen=True)
class Rejection:
    """A contact syncd could not carry out, and why: a segment row SendGrid (or syncd)
    refused, or a leaver that could not be taken off the list (segment "", row 0)."""

    segment: str
    row: int
    reason: str
    email: str = ""
    """The address, when known: shown only to those allowed to see personal data."""

    @property
    def place(self) -> str:
        """Where, in words: `vip row 12`, or `ann@example.com leaving the list` for a leaver
        (no row names it; a command's output masks the address unless asked to show it)."""
        if self.segment:
            return f"{self.segment} row {self.row}"
        return f"{self.email} leaving the list" if self.email else "leaving the list"


@dataclass(frozen=True)
class Returning:
    """A leaver back in the segment after its removal was sent: SendGrid may still apply
    that removal, so its re-add waits until search shows the removal landed."""

    email: str
    sent_at: float
    """When its removal was last accepted by SendGrid."""


@dataclass(frozen=True)
class Leaver:
    """Where the removal of a contact that left the segment stands."""

    email: str
    first_missed_at: float | None
    """When SendGrid's search first did not find it (it may not be searchable yet)."""
    sent_at: float | None
    """When a removal for it was last accepted by SendGrid (awaiting confirmation)."""
    sends: int = 0
    binding: int | None = None
    """The binding it was acknowledged under (its list: `FieldBinding.on_this_list`)."""


@dataclass(frozen=True)
class RunRecord:
    id: int
    destination: str
    trigger: str
    digest: str
    started_at: float
    ended_at: float | None
    outcome: str | None
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    read: ReadPath | None = None
    """How the run read its segments; None for an audit, a run that failed before, or
    one recorded by a syncd before 0.6 (ledger migration 6)."""


@dataclass(frozen=True)
class DestinationSummary:
    destination: str
    last_run: RunRecord
    last_success_at: float | None
    open_batches: int
    oldest_open_batch_at: float | None
    pending_erasures: int = 0
    """Contacts `syncd forget` asked to delete from SendGrid, not confirmed gone yet."""


@dataclass(frozen=True)
class Erased:
    """What `syncd forget` removed of an address from one destination's records."""

    destination: str
    acknowledged: int = 0
    retries: int = 0
    """Retry budgets of payloads SendGrid rejected."""
    removals: int = 0
    """Where its removal from the list stood."""
    rejections: int = 0
    """Rejected rows of past runs that carried or quoted it."""
    errors: int = 0
    """Run errors that quoted it (the address is replaced)."""
    unsent: int = 0
    """Items of batches not sent yet: taken out, never sent."""
    in_flight: int = 0
    """Items of batches SendGrid already has: their jobs cannot be recalled; they finish,
    and the item is dropped instead of acknowledged."""

    @property
    def held(self) -> bool:
        return any(
            (
                self.acknowledged,
                self.retries,
                self.removals,
                self.rejections,
                self.errors,
                self.unsent,
                self.in_flight,
            )
        )


@dataclass(frozen=True)
class DriftRecord:
    """What the last audit of a destination found (counts only: never an address)."""

    destination: str
    audited_at: float
    missing: int = 0
    extra: int = 0
    stale: int = 0
    unacknowledged: int = 0
    healed: bool = False
