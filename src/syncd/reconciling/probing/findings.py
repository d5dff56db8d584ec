"""What `syncd probe --live` reports: one finding per behaviour SendGrid does not document.

The behaviour ids are the rows of the fidelity table (docs/sendgrid-fidelity.md). Each
comes with what syncd assumes, so that a finding can say whether this account agrees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal, get_args

from syncd.errors import SyncdError

Behaviour = Literal[
    "scopes",
    "bad-values-refused-up-front",
    "blank-typed-values",
    "date-format",
    "invalid-email",
    "errors-file-layout",
    "errors-file-adds-up",
    "search-lag",
    "removal-job-pollable",
    "removal-applied",
    "rate-limit-header-case",
]
BEHAVIOURS: Final[tuple[Behaviour, ...]] = get_args(Behaviour)

ASSUMPTIONS: Final[Mapping[Behaviour, str]] = MappingProxyType(
    {
        "scopes": "the key has marketing.read, marketing_campaigns.create and "
        "marketing_campaigns.update, and marketing_campaigns.delete where a destination "
        "removes contacts (the probe needs all four)",
        "bad-values-refused-up-front": "an upsert holding a bad value is either accepted "
        "(the contact rejected in the job) or refused whole up front (400, 413 or 422) "
        "with errors naming the contacts (contacts[i]...) or nothing; syncd drops the "
        "contacts named, or splits the batch until the refused ones stand alone",
        "blank-typed-values": 'SendGrid may refuse "" for a Number or Date field, so syncd '
        "never sends it: a blank Number or Date is left out, and a value blanked in the "
        "source stays in SendGrid",
        "date-format": "a Date field takes MM/DD/YYYY, the format syncd sends every date in, "
        "and holds the date sent",
        "invalid-email": "SendGrid refuses, up front or in the job, an address syncd's own "
        "check refuses (syncd never sends one)",
        "errors-file-layout": "the errors file is CSV or JSON (an array, or an object a "
        "line), gzip'd or not, with an email column syncd recognises (email, Email "
        "Address, ...)",
        "errors-file-adds-up": "the errors file lists every contact errored_count counts; "
        "when it lists fewer, syncd looks the others up instead of trusting the job",
        "search-lag": "search may lag behind a completed job; syncd finds contacts by search "
        "and looks again for SYNCD_REMOVAL_WINDOW (3600 s by default) before giving up",
        "removal-job-pollable": "a list-removal job may not be pollable (a 404 at "
        "GET /v3/marketing/contacts/imports/{id}); syncd then confirms the removal by search",
        "removal-applied": "a list removal answered 202 is applied, possibly late; syncd "
        "confirms it by search and sends it again if it still shows after 600 s",
        "rate-limit-header-case": "answers carry X-RateLimit-Remaining and "
        "X-RateLimit-Reset, in whatever case (syncd reads them without regard to case), "
        "and syncd paces its requests by them",
    }
)


class ProbeStopped(SyncdError):
    """The probe cannot go on (the message says why and what to do); it cleans up."""


@dataclass(frozen=True)
class Finding:
    behaviour: Behaviour
    observed: str
    agrees: bool | None
    """None: the probe could not observe the behaviour (`observed` says why)."""
    details: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    """What was measured, for the JSON document: camelCase keys."""

    @property
    def syncd_assumes(self) -> str:
        return ASSUMPTIONS[self.behaviour]


def unobserved(behaviour: Behaviour, why: str) -> Finding:
    """A behaviour the probe could not see: `observed` says why."""
    return Finding(behaviour, why, None)


CreatedKind = Literal["list", "customField", "contacts"]


@dataclass(frozen=True)
class Created:
    """Something the probe created in the account: deleted at the end, or left with a reason."""

    kind: CreatedKind
    ids: tuple[str, ...]
    name: str
    """The list's or field's name; for contacts, the prefix of their addresses."""
    note: str = ""
    """Why it was left behind, or how it was deleted when that is worth saying."""

    @property
    def how_to_delete(self) -> str:
        if self.kind == "list":
            return f"DELETE /v3/marketing/lists/{self.ids[0]} (Marketing > Contacts > Lists)"
        if self.kind == "customField":
            return (
                f"DELETE /v3/marketing/field_definitions/{self.ids[0]} (Marketing > Custom Fields)"
            )
        if self.ids:
            return f"DELETE /v3/marketing/contacts?ids={','.join(self.ids)}"
        return f"search Marketing > Contacts for {self.name} and delete the contacts found"


@dataclass
class Cleanup:
    deleted: list[Created] = field(default_factory=list)
    left: list[Created] = field(default_factory=list)
    """What could not be deleted: `how_to_delete` says how to do it by hand."""
    kept: list[Created] = field(default_factory=list)
    """What the probe used but did not create (custom fields that existed): left alone."""

    @property
    def complete(self) -> bool:
        return not self.left


ErrorCode = Literal["cannotStart", "stopped", "interrupted"]


@dataclass(frozen=True)
class ProbeError:
    """Why the probe ended before its last step: before it made anything in the account
    (`cannotStart`), on a problem after that (`stopped`), or on Ctrl-C or SIGTERM
    (`interrupted`)."""

    code: ErrorCode
    message: str


@dataclass
class ProbeReport:
    base_url: str
    list_name: str
    findings: dict[Behaviour, Finding] = field(default_factory=dict)
    cleanup: Cleanup = field(default_factory=Cleanup)
    error: ProbeError | None = None

    def add(self, finding: Finding) -> None:
        self.findings[finding.behaviour] = finding

    def ordered(self) -> list[Finding]:
        """Every behaviour, in the fidelity table's order; those not reached say so."""
        why = "the probe stopped before it" if self.error else "nothing to observe it on"
        return [self.findings.get(b) or unobserved(b, why) for b in BEHAVIOURS]

    @property
    def disagreements(self) -> list[Behaviour]:
        return [f.behaviour for f in self.ordered() if f.agrees is False]
