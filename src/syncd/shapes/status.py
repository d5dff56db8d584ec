"""A destination's status (`syncd status`, `GET /v1/destinations`) and its run history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import Field

from syncd.shapes.common import SCHEMA_VERSION, Problem, Progress, Run, SchemaVersion, Shape


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


FILE_INVALID = "file invalid"


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
    last_handled_run: int | None = None
    """The run that carried out the last handled request (`lastRun` may be a later one
    already: a file changed meanwhile starts one at once)."""
    file_problems: list[Problem] = Field(default_factory=list)
    progress: Progress | None = None
    pending_removals: int = 0
    drift: Drift | None = None

    @property
    def shown_state(self) -> str:
        """The state, unless the file is invalid: then that comes first (its last good
        version runs, which is not the file in the directory). Not on the wire."""
        return FILE_INVALID if self.file_problems else self.state

    def next_run_shown(self, when: Callable[[str | None], str]) -> str:
        """`nextRunAt` as `when` writes a time; while a run is under way it is null (the
        run sets it as it ends), which reads "after the run under way", not "never"."""
        if self.next_run_at is None and self.state == "reconciling":
            return "after the run under way"
        return when(self.next_run_at)


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


class RejectedRow(Shape):
    """A row (or a leaver: segment "", row 0) the run did not carry out, and why."""

    segment: str
    row: int
    reason: str
    email: str
    """Masked unless the caller asked for personal data; "" when the row had none."""


class RejectedRows(Shape):
    """`syncd status NAME --rejections --output json`: the rejected rows of the
    destination's last run (an audit's own record aside), `run` its id (null: no run)."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    destination: str
    run: int | None = None
    rejections: list[RejectedRow]
