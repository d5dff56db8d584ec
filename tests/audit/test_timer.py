"""When the daemon audits: the schedule, the count check, a failed audit tried again."""

from __future__ import annotations

import random

from syncd.destinations import Audit
from syncd.reconciling import RunReport
from syncd.scheduling.audits import AUDIT_RETRY, AuditTimer
from syncd.shapes import AuditReport

HOURLY = Audit.model_validate({"schedule": {"interval": "1h"}})


def timer(*, tolerance: int = 0) -> AuditTimer:
    return AuditTimer(
        "members",
        last_audit=None,
        now=1000.0,
        settle_window=600.0,
        tolerance=tolerance,
        rng=random.Random(1),
    )


def run(listed: int, expected: int) -> RunReport:
    report = RunReport("members", "schedule")
    report.list_contacts, report.expected_contacts = listed, expected
    return report


def test_a_destination_never_audited_is_first_audited_one_period_later() -> None:
    t = timer()
    assert not t.due(HOURLY, 1000.0 + 3599)
    assert t.due(HOURLY, 1000.0 + 3600)


def test_a_count_mismatch_that_lasts_past_the_settle_window_starts_an_audit() -> None:
    t = timer(tolerance=2)
    t.check_count(HOURLY, run(100, 98), 1000.0)  # within the tolerance
    assert t.mismatch_since is None
    t.check_count(HOURLY, run(90, 100), 1100.0)
    assert not t.due(HOURLY, 1100.0)
    t.check_count(HOURLY, run(90, 100), 1650.0)  # still off, but not for 600 s yet
    assert not t.due(HOURLY, 1650.0)
    t.check_count(HOURLY, run(90, 100), 1700.0)
    assert t.due(HOURLY, 1700.0)
    request, asks = t.take(HOURLY)
    assert (request.reason, asks) == ("countMismatch", [])
    assert request.why == "the list counts 90 contacts where the ledger expects 100"
    t.done(1700.0, AuditReport(destination="members", outcome="success"), asks, now=1710.0)
    # The same gap, already seen by that audit (reported, not healed): no audit again.
    t.check_count(HOURLY, run(90, 100), 2000.0)
    t.check_count(HOURLY, run(90, 100), 2700.0)
    assert not t.due(HOURLY, 2700.0)
    # A new gap is new drift.
    t.check_count(HOURLY, run(80, 100), 2800.0)
    t.check_count(HOURLY, run(80, 100), 3400.0)
    assert t.due(HOURLY, 3400.0)


def test_on_count_mismatch_false_never_starts_an_audit_early() -> None:
    t = timer()
    quiet = Audit.model_validate({"onCountMismatch": False})
    t.check_count(quiet, run(1, 100), 1000.0)
    t.check_count(quiet, run(1, 100), 9000.0)
    assert t.early_reason is None


def test_a_failed_audit_is_tried_again_soon_not_a_period_later() -> None:
    t = timer()
    t.done(4600.0, AuditReport(destination="members", outcome="temporary"), [], now=4610.0)
    assert t.schedule(HOURLY, 4610.0) == 4610.0 + AUDIT_RETRY
    t.done(5300.0, AuditReport(destination="members", outcome="success"), [], now=5310.0)
    assert t.schedule(HOURLY, 5310.0) == 5300.0 + 3600


def test_a_gap_that_closed_since_the_audit_saw_it_is_new_drift_when_it_opens_again() -> None:
    # An audit that heals sees the gap it puts right: the same gap again later (another
    # contact taken off the list behind the ledger's back) is not drift already reported.
    daily = Audit()
    t = timer()
    t.check_count(daily, run(9, 10), 1000.0)
    t.check_count(daily, run(9, 10), 1600.0)
    request, asks = t.take(daily)
    assert request.reason == "countMismatch"
    t.done(1600.0, AuditReport(destination="members", outcome="success"), asks, now=1610.0)
    t.check_count(daily, run(9, 10), 1900.0)  # the heal not counted by SendGrid yet
    assert t.mismatch_since is None  # the gap the audit saw
    t.check_count(daily, run(10, 10), 2200.0)  # healed
    t.check_count(daily, run(9, 10), 5000.0)
    t.check_count(daily, run(9, 10), 5600.0)
    assert t.due(daily, 5600.0)
