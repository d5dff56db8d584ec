"""The statements of the audit (`syncd audit`), for SQLite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from syncd.ledger.digests import in_buckets
from syncd.ledger.snapshot_sql import UNSETTLE
from syncd.ledger.statements import Statements


@dataclass(frozen=True)
class AuditSql(Statements):
    get_export: str = "SELECT audit_export FROM destinations WHERE name = ?"
    set_export: str = "UPDATE destinations SET audit_export = ? WHERE name = ?"
    acked_page: str = (
        "SELECT email, acked_at FROM acked WHERE destination = ? AND email > ?"
        " ORDER BY email LIMIT ?"
    )
    in_buckets: str = ""  # the contacts whose payload print is in a `bucket_mask`'s buckets
    settling: str = (
        "SELECT email, fingerprint FROM acked WHERE destination = ? AND acked_at >= ? LIMIT ?"
    )
    # Contacts an audit leaves out: in an open batch (a job may still be applying them),
    # taken off the list recently (an export may still show them), refused for good
    # (SendGrid keeps rejecting them: not "missing", they are reported as rejected), or
    # whose removal is under way (a leaver, or one back whose re-add waits for it: until
    # search shows the removal landed, on the list or off it, neither is drift).
    exclusions: str = (
        "SELECT email FROM outbox_items WHERE destination = ? AND email > ?"
        " UNION SELECT email FROM departures WHERE destination = ? AND departed_at >= ?"
        "   AND email > ?"
        " UNION SELECT email FROM attempts WHERE destination = ? AND count >= ? AND email > ?"
        " UNION SELECT email FROM removals WHERE destination = ? AND email > ?"
        " ORDER BY 1 LIMIT ?"
    )
    acknowledge: str = (
        "INSERT INTO acked (destination, email, fingerprint, binding, raw, acked_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (destination, email) DO UPDATE SET fingerprint = excluded.fingerprint,"
        " binding = excluded.binding, raw = excluded.raw, acked_at = excluded.acked_at"
    )
    # What SendGrid holds is not what was acknowledged: the next run builds and sends it.
    unsettle: str = UNSETTLE
    put_drift: str = (
        "INSERT INTO drift"
        " (destination, audited_at, missing, extra, stale, unacknowledged, healed)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (destination) DO UPDATE SET audited_at = excluded.audited_at,"
        " missing = excluded.missing, extra = excluded.extra, stale = excluded.stale,"
        " unacknowledged = excluded.unacknowledged, healed = excluded.healed"
    )
    drifts: str = (
        "SELECT destination, audited_at, missing, extra, stale, unacknowledged, healed"
        " FROM drift ORDER BY destination"
    )


@functools.cache
def audit_sql(param: str) -> AuditSql:
    """The statements with this backend's placeholder."""
    return dataclasses.replace(
        AuditSql(param=param),
        in_buckets="SELECT email, fingerprint FROM acked WHERE destination = ?"
        f" AND {in_buckets('fingerprint', param)}",
    )
