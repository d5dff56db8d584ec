"""When a destination is audited: its audit schedule, audits asked for, and the cheap check.

An audit is due on `spec.audit.schedule` (counted from the start of the last one, which
the ledger remembers across restarts; a destination never audited is first audited one
period after the daemon took it on, not at once), when someone asks
(`POST /v1/destinations/{name}/audit`), or early when the cheap check on every refresh
finds the list's `contact_count` off what the ledger expects by more than the tolerance,
for longer than the settle window (SendGrid's count lags behind its jobs). A gap the last
audit already saw (drift it reported and was not asked to heal, or leavers `onLeave: keep`
leaves on the list) does not start another: only a gap that changed does, or one that
closed since and opened again (a heal puts right the gap its audit saw). A failed audit
is tried again after `AUDIT_RETRY`, not a whole period later.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from syncd.destinations import Audit
from syncd.logs import get_logger
from syncd.reconciling import RunReport
from syncd.reconciling.auditing import AuditRequest
from syncd.scheduling.timing import next_run
from syncd.shapes import AuditReport

log = get_logger("syncd.scheduling")
AUDIT_RETRY = 600.0
"""Seconds before a failed audit (an export SendGrid failed, say) is tried again."""


@dataclass
class AuditAsk:
    request: AuditRequest
    answer: asyncio.Future[AuditReport]


class AuditTimer:
    def __init__(
        self,
        name: str,
        *,
        last_audit: float | None,
        now: float,
        settle_window: float,
        tolerance: int,
        rng: random.Random,
    ) -> None:
        self.name = name
        self.last_audit = last_audit if last_audit is not None else now
        self.settle_window = settle_window
        self.tolerance = tolerance
        self.rng = rng
        self.asks: list[AuditAsk] = []
        self.mismatch_since: float | None = None
        self.gap: int | None = None
        """The list's count minus the ledger's, at the last run."""
        self.seen_gap: int | None = None
        """The gap when the last audit ran: drift it already reported."""
        self.early_reason: str | None = None
        self.next_at: float | None = None

    def schedule(self, spec: Audit, now: float) -> float:
        if self.next_at is None:
            self.next_at = next_run(
                spec.schedule, last_start=self.last_audit, now=now, rng=self.rng
            )
        return self.next_at

    def due(self, spec: Audit, now: float) -> bool:
        return bool(self.asks) or self.early_reason is not None or now >= self.schedule(spec, now)

    def ask(self, request: AuditRequest) -> asyncio.Future[AuditReport]:
        answer: asyncio.Future[AuditReport] = asyncio.get_running_loop().create_future()
        self.asks.append(AuditAsk(request, answer))
        return answer

    def take(self, spec: Audit) -> tuple[AuditRequest, list[AuditAsk]]:
        """The audit to run now: what was asked (all asks merged), or the scheduled one."""
        asks, self.asks = self.asks, []
        if asks:
            return (
                AuditRequest(
                    heal=any(a.request.heal for a in asks),
                    prune=any(a.request.prune for a in asks),
                    allow_removals=any(a.request.allow_removals for a in asks),
                    reason=asks[0].request.reason,
                ),
                asks,
            )
        reason = "countMismatch" if self.early_reason else "schedule"
        return (
            AuditRequest(heal=spec.heal, prune=spec.prune, reason=reason, why=self.early_reason),
            [],
        )

    def put_back(self, asks: list[AuditAsk]) -> None:
        self.asks = asks + self.asks

    def done(
        self, started: float, report: AuditReport, asks: list[AuditAsk], *, now: float
    ) -> None:
        if report.outcome == "success":
            self.last_audit = started
            self.next_at = None
        else:
            self.next_at = now + AUDIT_RETRY
        self.early_reason = None
        self.mismatch_since = None
        self.seen_gap = self.gap
        for ask in asks:
            if not ask.answer.done():
                ask.answer.set_result(report)

    def abandon(self, asks: list[AuditAsk]) -> None:
        for ask in asks:
            if not ask.answer.done():
                ask.answer.cancel()

    def check_count(self, spec: Audit, report: RunReport, now: float) -> None:
        """After a run: does the list's count stray from the ledger's for too long?"""
        listed, expected = report.list_contacts, report.expected_contacts
        if not spec.on_count_mismatch or listed is None or expected is None:
            return
        self.gap = gap = listed - expected
        if abs(gap) <= self.tolerance:
            # Closed (healed, or put right by hand): the same gap later is new drift.
            self.mismatch_since = self.seen_gap = None
            return
        if self.seen_gap is not None and abs(gap - self.seen_gap) <= self.tolerance:
            self.mismatch_since = None
            return
        if self.mismatch_since is None:
            self.mismatch_since = now
        if now - self.mismatch_since >= self.settle_window and self.early_reason is None:
            self.early_reason = (
                f"the list counts {listed:,} contacts where the ledger expects {expected:,}"
            )
            log.info(
                "audit.count_mismatch",
                destination=self.name,
                list_contacts=listed,
                expected=expected,
                since=self.mismatch_since,
            )
