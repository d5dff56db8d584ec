"""Validation, audit and error documents."""

from __future__ import annotations

from pydantic import Field

from syncd.shapes.common import (
    SCHEMA_VERSION,
    Outcome,
    Problem,
    SchemaVersion,
    Shape,
    mask_email,
)


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

    def masked(self) -> AuditReport:
        """The report with its examples masked (`a***@example.com`), as shown to anyone
        not allowed to see addresses."""
        e = self.examples
        shown = DriftExamples(
            missing=[mask_email(x) for x in e.missing],
            extra=[mask_email(x) for x in e.extra],
            stale=[mask_email(x) for x in e.stale],
            unacknowledged=[mask_email(x) for x in e.unacknowledged],
        )
        return self.model_copy(update={"examples": shown})


class ErrorBody(Shape):
    code: str
    message: str


class ErrorDocument(Shape):
    schema_version: SchemaVersion = SCHEMA_VERSION
    error: ErrorBody
