"""The state store: what SendGrid acknowledged, the outbox, runs and rejections.

SQLite (one process) by default; PostgreSQL (`postgresql://...`) when several
replicas share the work. Both implement `Ledger` / `LedgerSession`. Calls are
synchronous: the reconciler runs them in worker threads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from syncd.clock import SYSTEM_CLOCK, Clock
from syncd.ledger.leases import Leases, LocalLeases
from syncd.ledger.records import (
    RETRY_BUDGET,
    Batch,
    BatchKind,
    DestinationSummary,
    OutboxItem,
    Rejection,
    RunRecord,
    StagedContact,
    StaleRow,
)
from syncd.ledger.sqlite import SqliteLedger
from syncd.planning import DiffCounts

__all__ = [
    "RETRY_BUDGET",
    "Batch",
    "BatchKind",
    "DestinationSummary",
    "DiffCounts",
    "Leases",
    "Ledger",
    "LedgerSession",
    "LocalLeases",
    "OutboxItem",
    "Rejection",
    "RunRecord",
    "StagedContact",
    "StaleRow",
    "open_ledger",
]


class LedgerSession(Protocol):
    destination: str
    epoch: int

    def field_generation(self, fields: Mapping[str, tuple[str, str]], *, record: bool) -> int: ...
    def in_sync(self) -> str | None: ...
    def mark_in_sync(self, value: str | None) -> None: ...
    def begin_run(self, trigger: str, digest: str) -> int: ...
    def finish_run(
        self, run_id: int, outcome: str, counts: Mapping[str, int], error: str | None
    ) -> None: ...
    def record_rejections(self, run_id: int, rejections: Sequence[Rejection]) -> None: ...
    def reset_snapshot(self) -> None: ...
    def stage(self, rows: Sequence[tuple[str, int, bytes, int, int]]) -> None: ...
    def staged_distinct(self) -> int: ...
    def finalize_snapshot(self) -> int: ...
    def refresh_flags(self) -> None: ...
    def mark_rebind(self, binding: int) -> None: ...
    def stale(self, after: str, limit: int) -> list[StaleRow]: ...
    def release_staged(self) -> None: ...
    def record_builds(
        self,
        built: Sequence[tuple[int, bytes, str]],
        settled: Sequence[str],
        dropped: Sequence[str],
        raw_refresh: Sequence[tuple[int, str]],
    ) -> None: ...
    def acked_digest(self, binding: int) -> tuple[int, int, int, int]: ...
    def acked_count(self) -> int: ...
    def diff(self, retry_budget: int) -> DiffCounts: ...
    def to_send(self, retry_budget: int, after: str, limit: int) -> list[StagedContact]: ...
    def give_up(self, rejected: Sequence[tuple[StagedContact, str, str]]) -> None: ...
    def exhausted(self, retry_budget: int) -> list[Rejection]: ...
    def gone(self, after: str, limit: int) -> list[str]: ...
    def forget(self, emails: Sequence[str]) -> None: ...
    def open_batches(self) -> list[Batch]: ...
    def prepare(
        self, kind: BatchKind, list_id: str, items: Sequence[OutboxItem], run_id: int | None
    ) -> Batch: ...
    def bodies(self, batch_id: int) -> list[bytes]: ...
    def emails(self, batch_id: int) -> list[str]: ...
    def submitted(self, batch_id: int, job_id: str) -> float: ...
    def reopen(self, batch_id: int) -> None: ...
    def complete(
        self, batch: Batch, rejected: Mapping[str, str], *, applied: bool = True
    ) -> list[Rejection]: ...
    def abandon(self, batch_id: int) -> None: ...


class Ledger(Protocol):
    def session(self, destination: str) -> AbstractContextManager[LedgerSession]: ...
    def summaries(self) -> list[DestinationSummary]: ...
    def runs(self, destination: str, limit: int = 20) -> list[RunRecord]: ...
    def rejections(self, run_id: int, limit: int = 100) -> list[Rejection]: ...
    def ping(self) -> None:
        """Raises when the ledger cannot be reached."""

    def leases(self, replica: str, *, ttl: float) -> Leases:
        """Who owns which destination: everything locally, a fair share when shared."""
        ...

    def close(self) -> None: ...


def open_ledger(state: str, *, writer: bool = True, clock: Clock = SYSTEM_CLOCK) -> Ledger:
    """`state` is a SQLite file path or a postgresql:// URL."""
    if re.search(r"\b(dbname|host|user)=", state) and not state.startswith("postgres"):
        raise ValueError(
            "the ledger takes a postgresql:// URL, not a key=value connection string "
            "(e.g. postgresql://syncd@db:5432/syncd)"
        )
    if state.startswith(("postgresql://", "postgres://")):
        from syncd.ledger.postgres import PostgresLedger  # only PostgreSQL users pay the import

        return PostgresLedger(state, writer=writer, clock=clock)
    return SqliteLedger(Path(state), writer=writer, clock=clock)
