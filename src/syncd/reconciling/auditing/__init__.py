"""The audit: SendGrid's real list (its export) against the segment and the ledger."""

from syncd.reconciling.auditing.auditor import Auditor, AuditRequest

__all__ = ["AuditRequest", "Auditor"]
