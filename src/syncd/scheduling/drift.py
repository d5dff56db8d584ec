"""What the last audit found, as the status shows it: `drift` and the `Drifted` condition.

Fed by each audit as it ends, and at start by the ledger's record of the last one, so the
status says the same thing before and after a restart. Counts only: never an address.
"""

from __future__ import annotations

from syncd.ledger import DriftRecord
from syncd.metrics import DRIFT_KINDS, Metrics
from syncd.shapes import AuditReport, Drift, iso


def drift_from_record(record: DriftRecord) -> Drift:
    return Drift(
        audited_at=iso(record.audited_at) or "",
        missing=record.missing,
        extra=record.extra,
        stale=record.stale,
        unacknowledged=record.unacknowledged,
        healed=record.healed,
    )


def drift_from_report(report: AuditReport) -> Drift | None:
    """None when the audit could not compare (the export failed, say)."""
    if report.audited_at is None:
        return None
    d = report.drift
    healing = report.healing
    healed = bool(
        report.drifted
        and not healing.prune_blocked
        and not healing.heal_error
        and (report.heal or not (d.missing or d.stale))
        and (report.prune or not d.extra)
    )
    return Drift(
        audited_at=report.audited_at,
        missing=d.missing,
        extra=d.extra,
        stale=d.stale,
        unacknowledged=d.unacknowledged,
        healed=healed,
        why=report.why,
    )


def drifted(drift: Drift) -> tuple[bool, str, str]:
    """The `Drifted` condition: (status, reason, message)."""
    found = drift.missing + drift.extra + drift.stale + drift.unacknowledged
    early = f" (started early: {drift.why})" if drift.why else ""
    if not found:
        return False, "NoDrift", f"the audit at {drift.audited_at}{early} found the list equal"
    counts = (
        f"{drift.missing:,} missing, {drift.extra:,} extra, {drift.stale:,} stale, "
        f"{drift.unacknowledged:,} unacknowledged"
    )
    if drift.healed:
        return False, "Healed", f"the audit at {drift.audited_at}{early} found and healed {counts}"
    return True, "DriftFound", f"the audit at {drift.audited_at}{early} found {counts}"


def drift_gauges(metrics: Metrics, name: str, drift: Drift) -> None:
    for kind in DRIFT_KINDS:
        metrics.drift_contacts.labels(destination=name, kind=kind).set(getattr(drift, kind))
    metrics.drift_healed.labels(destination=name).set(1 if drift.healed else 0)


def audit_metrics(metrics: Metrics, name: str, report: AuditReport, now: float) -> None:
    """An audit ended: its outcome, and what it found (counts only, never an address)."""
    metrics.audit_runs.labels(destination=name, outcome=report.outcome).inc()
    found = drift_from_report(report)
    if found is not None:
        drift_gauges(metrics, name, found)
    if report.outcome == "success":
        metrics.audit_last_success.labels(destination=name).set(now)
