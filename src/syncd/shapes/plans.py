"""A plan (`syncd plan`, `POST /v1/plans`): per destination its counts, guards and examples."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from syncd.shapes.common import SCHEMA_VERSION, Counts, Problem, SchemaVersion, Shape


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
STOPS_BEFORE_THE_DIFF: frozenset[GuardName] = frozenset({"maxProfiles", "consent"})
"""Guards that stop a run before its segments are compared with SendGrid: a plan they
stop counts what was read (`rows`, `profiles`, `rejected`), nothing to add, update, leave
or keep unchanged."""


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
