"""The JSON syncd speaks, one shape per thing, for the CLI (`--output json`) and the HTTP API.

Rules every shape follows:
- camelCase keys; times as RFC 3339 UTC (`2026-11-29T22:15:03Z`); durations in seconds
  (`...Seconds`); counts as integers, every key present.
- The same object for one thing wherever it appears: a destination's status is identical in
  `GET /v1/destinations`, `GET /v1/destinations/{name}` and `syncd status --output json`.
- Every document carries `schemaVersion`; additive changes keep it, removals and renames
  bump it. `syncd schema --status|--plan|...` prints each document's JSON Schema, generated
  from these models (docs/schemas/ holds the committed copies; a test keeps them equal).
- Addresses are masked (`a***@example.com`) unless the caller asked for personal data.

The models only describe; each producer (scheduling, reconciling, the ledger) fills them.
"""

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
    removed: int = 0
    rejected: int = 0
    refused: int = 0
    pending_removals: int = 0
    forgotten: int = 0
    """Rows dropped because their address was erased (`syncd forget`)."""
    kept: int = 0
    """Leavers left on the list and dropped from the ledger (`onLeave: keep`)."""

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


class Condition(Shape):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str
    last_transition_time: str | None = None


class Drift(Shape):
    """What the last audit found between SendGrid's list and the segment."""

    audited_at: str
    missing: int = 0
    extra: int = 0
    stale: int = 0
    unacknowledged: int = 0
    healed: bool = False
    why: str | None = None
    """What started the audit early, if something did (a contact-count mismatch)."""


State = Literal[
    "pending", "ready", "reconciling", "retrying", "blocked", "stalled", "suspended", "standby"
]


class DestinationStatus(Shape):
    name: str
    display_name: str | None = None
    file: str
    digest: str
    state: State
    suspended: bool = False
    owned: bool = True
    conditions: list[Condition] = Field(default_factory=list)
    next_run_at: str | None = None
    last_run: Run | None = None
    last_success_at: str | None = None
    consecutive_failures: int = 0
    last_handled_request: int = 0
    file_problems: list[Problem] = Field(default_factory=list)
    progress: Progress | None = None
    pending_removals: int = 0
    drift: Drift | None = None


class InvalidFile(Shape):
    file: str
    problems: list[Problem]


class StatusDocument(Shape):
    schema_version: SchemaVersion = SCHEMA_VERSION
    destinations: list[DestinationStatus]
    invalid_files: list[InvalidFile] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)


class RunHistory(Shape):
    schema_version: SchemaVersion = SCHEMA_VERSION
    destination: str
    runs: list[Run]


class FieldChange(Shape):
    field: str
    before: str | None = Field(default=None, serialization_alias="from", alias="from")
    after: str | None = Field(default=None, serialization_alias="to", alias="to")


class Example(Shape):
    """One contact a plan would change, and how."""

    email: str
    """Masked unless the caller asked for personal data."""
    segment: str | None = None
    row: int | None = None
    changes: list[FieldChange] = Field(default_factory=list)
    reason: str | None = None


class Examples(Shape):
    add: list[Example] = Field(default_factory=list)
    update: list[Example] = Field(default_factory=list)
    remove: list[Example] = Field(default_factory=list)
    rejected: list[Example] = Field(default_factory=list)


GuardName = Literal["removalFraction", "emptySegment", "maxProfiles", "consent"]


class Guard(Shape):
    guard: GuardName
    message: str
    how_to_pass: str


PlanResult = Literal["noChanges", "changes", "blocked", "invalid", "error"]


class PlanEntry(Shape):
    name: str
    file: str
    result: PlanResult
    first_export: bool = False
    problems: list[Problem] = Field(default_factory=list)
    error: str | None = None
    guards: list[Guard] = Field(default_factory=list)
    counts: Counts = Field(default_factory=Counts)
    examples: Examples = Field(default_factory=Examples)


class PlanDocument(Shape):
    schema_version: SchemaVersion = SCHEMA_VERSION
    destinations: list[PlanEntry]


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
    how: Literal["removed", "kept"]


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
    "removed", "kept", "unknown",
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


class FileValidation(Shape):
    """One destination file as `syncd validate` found it (`name`: when it is valid)."""

    file: str
    name: str | None = None
    valid: bool
    problems: list[Problem] = Field(default_factory=list)


class OnlineCheck(Shape):
    """One valid destination met with SendGrid as a run's preflight does (`--online`)."""

    name: str
    file: str
    passed: bool
    summary: str = ""
    problems: list[str] = Field(default_factory=list)


class ValidationDocument(Shape):
    """`syncd validate --output json`: `valid` when every file is and there is one (and,
    with `--online`, every destination passed); `problems` of no one file (a directory
    that cannot be read, say); `online` only with `--online`."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    valid: bool
    files: list[FileValidation]
    problems: list[Problem] = Field(default_factory=list)
    online: list[OnlineCheck] | None = None


class DriftCounts(Shape):
    """Contacts found drifted, by kind (see `AuditReport`)."""

    missing: int = 0
    extra: int = 0
    stale: int = 0
    unacknowledged: int = 0


class DriftExamples(Shape):
    """Up to 20 addresses of each kind, in address order (never in logs or metrics)."""

    missing: list[str] = Field(default_factory=list)
    extra: list[str] = Field(default_factory=list)
    stale: list[str] = Field(default_factory=list)
    unacknowledged: list[str] = Field(default_factory=list)


class Healing(Shape):
    """What the audit did about the drift."""

    resent: int = 0
    """Missing and stale contacts sent again (through a run with trigger `audit`)."""
    acknowledged: int = 0
    """Unacknowledged contacts recorded in the ledger, without a request."""
    removed: int = 0
    """Extra contacts taken off the list (`prune`); never deleted from the account."""
    prune_blocked: str | None = None
    """Why the extra contacts were left on the list although pruning was asked."""
    heal_error: str | None = None
    """Why the run that sends missing and stale contacts did not succeed, if it did not."""


class AuditReport(Shape):
    """`syncd audit NAME --output json` and `POST /v1/destinations/{name}/audit`: the real
    list (SendGrid's export) against the segment and the ledger.

    - missing: in the segment (and not refused by syncd or SendGrid), not on the list;
    - extra: on the list, in no segment;
    - stale: on both, but a field syncd maps holds another value than syncd would send;
    - unacknowledged: on both and equal, unknown to the ledger (repaired without a request).

    Contacts of jobs completed within the settle window, in open batches, or taken off the
    list within it are left out (`excluded`)."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    destination: str
    outcome: Outcome
    error: str | None = None
    audited_at: str | None = None
    reason: str = "manual"
    """Why the audit ran: manual, schedule, or countMismatch."""
    why: str | None = None
    """For countMismatch: the counts that started it early."""
    list_contacts: int = 0
    """Contacts on the list, as SendGrid exported it."""
    profiles: int = 0
    """Distinct profiles in the segment."""
    excluded: int = 0
    drift: DriftCounts = Field(default_factory=DriftCounts)
    examples: DriftExamples = Field(default_factory=DriftExamples)
    heal: bool = False
    prune: bool = False
    healing: Healing = Field(default_factory=Healing)

    @property
    def drifted(self) -> bool:
        d = self.drift
        return bool(d.missing or d.extra or d.stale or d.unacknowledged)


class ErrorBody(Shape):
    code: str
    message: str


class ErrorDocument(Shape):
    schema_version: SchemaVersion = SCHEMA_VERSION
    error: ErrorBody


DOCUMENTS: dict[str, type[Shape]] = {
    "status": StatusDocument,
    "history": RunHistory,
    "plan": PlanDocument,
    "validation": ValidationDocument,
    "explain": ExplainDocument,
    "audit": AuditReport,
    "error": ErrorDocument,
}
"""The documents `syncd schema --NAME` prints the JSON Schema of."""


def json_schema(document: str) -> dict[str, Any]:
    schema = DOCUMENTS[document].model_json_schema(by_alias=True, mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://github.com/syncd/syncd/schemas/{document}-v1.json"
    return schema
