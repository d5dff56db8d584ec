"""One address's story (`syncd explain`, `GET .../contacts/{email}`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from syncd.shapes.common import SCHEMA_VERSION, SchemaVersion, Shape
from syncd.shapes.plans import FieldChange


class FieldValue(Shape):
    field: str
    value: str | None = None


class SourceRow(Shape):
    """A segment row holding the address; `used`: the first one, the one syncd takes."""

    segment: str
    row: int
    used: bool
    problem: str | None = None


BatchState = Literal[
    "prepared", "submitted", "applied", "partlyRejected", "notApplied", "accepted", "failed"
]


class BatchRecord(Shape):
    """A batch that carried the contact: open (prepared, submitted) or ended (how)."""

    batch: int
    run: int | None = None
    kind: Literal["upsert", "remove", "delete"]
    job_id: str | None = None
    state: BatchState
    submitted_at: str | None = None
    ended_at: str | None = None


class Acknowledgement(Shape):
    """What SendGrid acknowledged; `sameValues`: whether syncd maps those values now."""

    at: str
    same_values: bool | None = None
    batch: BatchRecord | None = None


class RejectionRecord(Shape):
    """`attempts`: refusals of these very values; `retriesLeft`: sends before it is
    reported instead of sent (until its values change)."""

    reason: str
    segment: str | None = None
    row: int | None = None
    attempts: int = 0
    retries_left: int = 0
    at: str | None = None
    batch: BatchRecord | None = None


class PendingRemoval(Shape):
    """Left the segments, on the list as far as syncd knows: not found by search since
    `firstMissedAt`, or its removal accepted at `sentAt` and awaiting confirmation."""

    first_missed_at: str | None = None
    sent_at: str | None = None
    sends: int = 0


class Departure(Shape):
    at: str
    how: Literal["removed", "kept", "notRemoved"]


class LiveContact(Shape):
    """What SendGrid's search shows now (it may lag minutes behind its jobs); `changes`:
    mapped fields whose value (`from`) differs from the one syncd sends (`to`)."""

    found: bool
    on_list: bool = False
    values: list[FieldValue] = Field(default_factory=list)
    changes: list[FieldChange] = Field(default_factory=list)
    note: str | None = None


ContactState = Literal[
    "inSync", "toAdd", "toUpdate", "sending", "rejected", "pendingRemoval", "removing",
    "removed", "kept", "notRemoved", "erased", "unknown", "segmentsNotRead",
]  # fmt: skip


class ContactInDestination(Shape):
    destination: str
    file: str | None = None
    state: ContactState
    summary: str
    rows: list[SourceRow] = Field(default_factory=list)
    values: list[FieldValue] = Field(default_factory=list)
    acknowledged: Acknowledgement | None = None
    in_flight: BatchRecord | None = None
    rejection: RejectionRecord | None = None
    pending_removal: PendingRemoval | None = None
    departure: Departure | None = None
    live: LiveContact | None = None


class ExplainDocument(Shape):
    """`syncd explain EMAIL`, `GET /v1/destinations/{name}/contacts/{email}`; `known`: a
    segment or the ledger holds the address."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    email: str
    known: bool
    destinations: list[ContactInDestination]
