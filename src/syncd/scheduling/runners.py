"""What a destination's worker is given to work with: the runner, the auditor, a request.

The scheduler and its workers know the reconciler only through these protocols (tests
pass their own); a `Request` is one on-demand trigger, numbered so a caller can tell
when it was handled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from syncd.loading import LoadedDestination
from syncd.reconciling import RunProgress, RunReport
from syncd.reconciling.auditing import AuditRequest
from syncd.shapes import AuditReport, Trigger


class Runner(Protocol):
    """What the scheduler needs from the reconciler (tests pass their own)."""

    async def run(
        self,
        loaded: LoadedDestination,
        *,
        trigger: Trigger = ...,
        allow_removals: bool = ...,
        dry_run: bool = ...,
        stopping: Callable[[], bool] = ...,
        live: RunProgress | None = ...,
    ) -> RunReport: ...


class AuditRunner(Protocol):
    """What the scheduler needs to audit (the reconciler; None: no audits)."""

    async def audit(
        self,
        loaded: LoadedDestination,
        request: AuditRequest,
        *,
        stopping: Callable[[], bool] = ...,
        live: RunProgress | None = ...,
    ) -> AuditReport: ...


@dataclass
class Request:
    id: int
    allow_removals: bool
