"""The ledger's side of the audit: the export it waits for, what it repairs, what it found.

Per destination (`AuditState`, fenced like every write of a session): the export id (a
restart polls the same export), the pages an audit copies into its workspace, the repairs
(acknowledging contacts found equal on the list, marking contacts SendGrid does not hold
as sent syncd acknowledged as to be sent again) and the drift found. Ledger-wide
(`LedgerAuditing`): the last drift of every destination, for the status after a restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from syncd.clock import Clock
from syncd.ledger.audit_sql import AuditSql, audit_sql
from syncd.ledger.core import SessionCore
from syncd.ledger.digests import bucket_mask
from syncd.ledger.records import DriftRecord
from syncd.ledger.sql_text import SqlText


class AuditState(SessionCore):
    @property
    def _audit_sql(self) -> AuditSql:
        return audit_sql(self.sql.param)

    def audit_export(self) -> str | None:
        """The export an interrupted audit was waiting for, if any."""
        rows = self._rows(self._audit_sql.get_export, (self.destination,))
        value: str | None = rows[0][0] if rows else None
        return value

    def keep_audit_export(self, export_id: str | None) -> None:
        with self._write() as tx:
            tx.run(self._audit_sql.set_export, (export_id, self.destination))

    def acked_page(self, after: str, limit: int) -> list[tuple[str, float]]:
        """(email, acknowledged at) in email order after `after`."""
        rows = self._rows(self._audit_sql.acked_page, (self.destination, after, limit))
        return [(row[0], float(row[1])) for row in rows]

    def audit_exclusions(
        self, departed_since: float, retry_budget: int, after: str, limit: int
    ) -> list[str]:
        """Contacts an audit leaves out, in email order after `after`: in an open batch,
        taken off the list since `departed_since`, out of retries, or being removed."""
        d = self.destination
        params = (d, after, d, departed_since, after, d, retry_budget, after, d, after, limit)
        return [row[0] for row in self._rows(self._audit_sql.exclusions, params)]

    def acked_settling(self, since: float, limit: int) -> list[tuple[str, int]]:
        """(email, fingerprint) of at most `limit` contacts acknowledged since `since`."""
        rows = self._rows(self._audit_sql.settling, (self.destination, since, limit))
        return [(row[0], int(row[1])) for row in rows]

    def acked_in_buckets(self, buckets: Sequence[int]) -> list[tuple[str, int]]:
        """(email, fingerprint) of the contacts whose fingerprint falls in these buckets."""
        rows = self._rows(self._audit_sql.in_buckets, (self.destination, bucket_mask(buckets)))
        return [(row[0], int(row[1])) for row in rows]

    def acked_prints(self, emails: Sequence[str]) -> dict[str, int]:
        """email → acknowledged fingerprint, for those of `emails` the ledger holds."""
        rows = self._rows_for_emails(
            "SELECT email, fingerprint FROM acked WHERE destination = ? AND email IN ({emails})",
            emails,
        )
        return {row[0]: int(row[1]) for row in rows}

    def acknowledge_found(self, found: Sequence[tuple[str, int, int, int]]) -> None:
        """(email, fingerprint, binding, raw) of contacts the list holds exactly as syncd
        would send them: acknowledged without a request (a ledger lost, then rebuilt)."""
        if not found:
            return
        now = self.clock.now()
        with self._write() as tx:
            tx.many(
                self._audit_sql.acknowledge,
                [(self.destination, e, fp, binding, raw, now) for e, fp, binding, raw in found],
            )

    def unsettle(self, emails: Sequence[str]) -> None:
        """Contacts SendGrid does not hold as acknowledged (taken off the list, edited):
        the next run builds and sends them again; and the sources are no longer known equal."""
        with self._write() as tx:
            tx.many(self._audit_sql.unsettle, [(self.destination, email) for email in emails])
            tx.run(self.sql.set_in_sync, (None, self.destination))

    def record_drift(self, drift: DriftRecord) -> None:
        with self._write() as tx:
            tx.run(
                self._audit_sql.put_drift,
                (
                    self.destination,
                    drift.audited_at,
                    drift.missing,
                    drift.extra,
                    drift.stale,
                    drift.unacknowledged,
                    drift.healed,
                ),
            )


class LedgerAuditing:
    """Ledger-wide reads over a backend's `_read`."""

    clock: Clock
    sql: SqlText

    def _read(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def drifts(self) -> dict[str, DriftRecord]:
        """The last audit's findings, by destination."""
        return {
            row[0]: DriftRecord(
                destination=row[0],
                audited_at=float(row[1]),
                missing=int(row[2]),
                extra=int(row[3]),
                stale=int(row[4]),
                unacknowledged=int(row[5]),
                healed=bool(row[6]),
            )
            for row in self._read(audit_sql(self.sql.param).drifts, ())
        }
