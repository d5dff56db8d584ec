"""Contact exports: a snapshot taken when requested, ready `export_delay` seconds later."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ExportStatus = Literal["pending", "ready", "failure"]
EXPORT_LIFETIME = 72 * 3600.0  # how long SendGrid keeps export files; only shown in expires_at


@dataclass(frozen=True)
class Export:
    id: str
    file_type: Literal["csv", "json"]
    list_ids: list[str]
    rows: list[dict[str, object]]  # the contacts as `ContactDetails3`, taken at creation
    due_at: float  # loop time
    created_at: str
    completed_at: str
    expires_at: str
    failure: str | None = None  # set by an injected job_failed fault

    def status(self, now: float) -> ExportStatus:
        if now < self.due_at:
            return "pending"
        return "failure" if self.failure is not None else "ready"
