"""What an audit is asked to do, and what it found as it goes (shared by its steps)."""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field
from typing import Literal, cast

from syncd.contacts import FieldBinding
from syncd.shapes import AuditReport, DriftCounts, DriftExamples, Healing, Outcome, iso

AuditWay = Literal["quick", "full", "quick, then full"]
"""How the export was compared: by bucket digests (`digests`), contact by contact, or
the first giving way to the second."""
EXAMPLES = 20
"""Example addresses kept per kind (the report only: never logs or metrics)."""


@dataclass(frozen=True)
class AuditRequest:
    heal: bool = False
    prune: bool = False
    allow_removals: bool = False
    reason: str = "manual"
    """manual, schedule or countMismatch: shown in the report and the log."""
    why: str | None = None
    """For an audit started early, what started it (the counts that differed)."""


@dataclass
class Findings:
    audited_at: float | None = None
    list_contacts: int = 0
    profiles: int = 0
    excluded: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    healing: Healing = field(default_factory=Healing)
    binding: FieldBinding = field(default_factory=lambda: FieldBinding("", {}))
    way: AuditWay = "full"
    examined: int = 0
    """Digest buckets the quick way examined contact by contact."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per step and the peak RSS after it, for the log line."""

    def lap(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[f"{step}_s"] = round(now - since, 3)
        self.timings[f"{step}_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        return now

    def report(
        self, name: str, request: AuditRequest, outcome: str, error: str | None
    ) -> AuditReport:
        """What the audit found, as the CLI, the API and the log show it."""
        return AuditReport(
            destination=name,
            outcome=cast(Outcome, outcome),
            error=error,
            audited_at=iso(self.audited_at),
            reason=request.reason,
            why=request.why,
            list_contacts=self.list_contacts,
            profiles=self.profiles,
            excluded=self.excluded,
            drift=DriftCounts(**self.counts),
            examples=DriftExamples(**self.examples),
            heal=request.heal,
            prune=request.prune,
            healing=self.healing,
        )
