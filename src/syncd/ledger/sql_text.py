"""The ledger's statements, written once for SQLite and PostgreSQL.

Both speak `ON CONFLICT`, `RETURNING` and `FILTER`; the placeholder, the name of the
per-connection snapshot tables and the one sort-and-deduplicate statement differ.
`SqlText` gathers every group of statements a session and the readers use, each group
in a module of its own: the run's snapshot and the diff (`snapshot_sql`), the outbox
(`outbox_sql`), the runs' history (`runs_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass

from syncd.ledger.outbox_sql import OutboxSql
from syncd.ledger.runs_sql import RunsSql
from syncd.ledger.snapshot_sql import SnapshotSql


# The bases in reverse: a dataclass takes its bases' fields from the last to the first, so
# the fields keep the order they had in one class (snapshot, outbox, runs).
@dataclass(frozen=True)
class SqlText(RunsSql, OutboxSql, SnapshotSql):
    """Everything but erasure (`forget_sql`)."""
