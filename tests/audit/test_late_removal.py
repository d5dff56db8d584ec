"""A removal SendGrid applies later than its grace (docs/guarantees.md, "What syncd does not
guarantee"): a leaver back in the segment is re-added once `SYNCD_SEARCH_LAG_GRACE` has
passed; its removal landing after that takes it off the list while the ledger holds it
acknowledged. Runs do not see it; the list's `contact_count` falling short of the ledger's
does, past the settle window, and starts the audit that finds the contact missing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from syncd.clock import LoopClock
from syncd.emulator import EmulatorConfig
from syncd.loading import LoadedDestination, load_directory
from syncd.metrics import Metrics
from syncd.reconciling import Reconciler
from syncd.reconciling.auditing import AuditRequest
from syncd.scheduling import Scheduler
from syncd.shapes import AuditReport
from tests.audit.conftest import AuditWorld, unlist
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.test_returning_leavers import LEAVER, left_with_its_removal_in_flight
from tests.reconciling.world import Row, emails

SETTLE = 600.0
"""SYNCD_AUDIT_SETTLE_WINDOW, as deployed."""
EVERY = 300.0
"""The destination's run interval in the daemon tests."""
OTHER = "person.3@example.com"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """SendGrid's rate-limit windows on the fake loop time the scheduler tests run on."""
    return strict_emulator_config(wall_clock=LoopClock().now)


async def removed_after_its_re_add(w: AuditWorld) -> list[Row]:
    """Ten members synced; person.9 leaves, SendGrid holds its removal; it comes back and,
    with no grace to wait (`search_lag_grace` 0), is re-added at once; then the removal
    lands. Returns the ten rows, all in the segment."""
    rows = await left_with_its_removal_in_flight(w)
    w.csv("vip", rows)
    w.settings = w.settings.model_copy(update={"search_lag_grace": 0.0})
    back = await w.sync()
    assert back.outcome == "success", back.error
    assert (back.counts()["held"], back.counts()["upserted"]) == (0, 1)
    assert LEAVER in w.members()
    await w.emulator.settle()  # the removal SendGrid held lands now, after the re-add
    assert w.members() == emails(rows) - {LEAVER}
    return rows


async def test_runs_do_not_see_the_late_removal_but_count_the_list_short(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    rows = await removed_after_its_re_add(w)

    for _ in range(2):
        again = await w.sync()
        assert again.outcome == "success", again.error
        assert again.counts()["upserted"] == 0  # the ledger holds it acknowledged
        assert w.members() == emails(rows) - {LEAVER}
        # What the daemon's count check compares: 9 listed where 10 are acknowledged.
        assert (again.list_contacts, again.expected_contacts) == (9, 10)


class Audits:
    """The reconciler as the daemon's auditor, keeping each report."""

    def __init__(self, reconciler: Reconciler) -> None:
        self.reconciler = reconciler
        self.reports: list[tuple[float, AuditReport]] = []

    async def audit(
        self, loaded: LoadedDestination, request: AuditRequest, **options: Any
    ) -> AuditReport:
        report = await self.reconciler.audit(loaded, request, **options)
        self.reports.append((asyncio.get_running_loop().time(), report))
        return report


@asynccontextmanager
async def daemon(w: AuditWorld) -> AsyncIterator[tuple[Scheduler, Audits]]:
    """The daemon's scheduler over the real reconciler and ledger, on the loop's time."""
    async with aiohttp.ClientSession() as http:
        reconciler = Reconciler(w.ledger, http, w.settings, w.metrics, clock=w.clock)
        audits = Audits(reconciler)
        scheduler = Scheduler(
            reconciler,
            Metrics(),
            w.clock,
            max_concurrent_runs=1,
            backoff_max=300,
            auditor=audits,
            audit_settle_window=w.settings.audit_settle_window,
            audit_count_tolerance=w.settings.audit_count_tolerance,
        )
        try:
            catalog = load_directory(w.destinations, w.settings.allowlists())
            await scheduler.apply(catalog.destinations)
            yield scheduler, audits
        finally:
            await scheduler.shutdown(grace=5)


async def late_removal_in_a_daemon(w: AuditWorld, **audit: Any) -> list[Row]:
    w.follow_the_loop()
    w.settings = w.settings.model_copy(
        update={"audit_settle_window": SETTLE, "job_poll_max_interval": 30.0}
    )
    rows = await removed_after_its_re_add(w)
    # Runs every 5 minutes; the scheduled audit (24 h) is far off.
    w.destination({"vip": w.csv("vip", rows)}, schedule={"interval": f"{EVERY:.0f}s"}, audit=audit)
    return rows


@pytest.mark.looptime(idle_step=0.01)
async def test_the_count_mismatch_starts_an_audit_that_heals_the_contact(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    rows = await late_removal_in_a_daemon(w, heal=True)
    loop = asyncio.get_running_loop()
    began = loop.time()

    async with daemon(w) as (_, audits):
        await asyncio.sleep(SETTLE - 60)
        assert audits.reports == []  # short for less than the settle window: no audit yet
        assert w.members() == emails(rows) - {LEAVER}
        async with asyncio.timeout(SETTLE):
            while not audits.reports:
                await asyncio.sleep(10)
        at, report = audits.reports[0]
        # At the first run that finds the count short for the whole window: the one at
        # 600 s, or at 900 s when the first run ended later after its start than that one.
        assert SETTLE <= at - began < SETTLE + 2 * EVERY
        assert report.outcome == "success", report.error
        assert report.reason == "countMismatch"
        assert report.why == "the list counts 9 contacts where the ledger expects 10"
        assert (report.drift.missing, report.examples.missing) == (1, [LEAVER]), report
        assert report.healing.resent == 1
        await w.emulator.settle()
        assert w.members() == emails(rows)
        await asyncio.sleep(3 * SETTLE)  # the gap closed: no other audit
        assert len(audits.reports) == 1

        # The same gap again later (by hand this time) is new drift, not the one healed.
        await w.hand_edits(unlist(OTHER))
        async with asyncio.timeout(SETTLE + 3 * EVERY):  # the next run sees it, then 600 s
            while len(audits.reports) == 1:
                await asyncio.sleep(10)
        _, again = audits.reports[1]
        assert (again.reason, again.examples.missing, again.healing.resent) == (
            "countMismatch",
            [OTHER],
            1,
        )
        await w.emulator.settle()
        assert w.members() == emails(rows)


@pytest.mark.looptime(idle_step=0.01)
async def test_a_count_mismatch_audit_reports_the_contact_and_an_asked_heal_sends_it(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    rows = await late_removal_in_a_daemon(w)  # audits report only (the default)

    async with daemon(w) as (scheduler, audits):
        async with asyncio.timeout(2 * SETTLE):
            while not audits.reports:
                await asyncio.sleep(10)
        _, report = audits.reports[0]
        assert (report.reason, report.drift.missing, report.examples.missing) == (
            "countMismatch",
            1,
            [LEAVER],
        )
        assert report.healing.resent == 0
        status = scheduler.status("members")
        drifted = [c for c in status.conditions if c.type == "Drifted"]
        assert [c.status for c in drifted] == ["True"]
        assert LEAVER not in w.members()

        healed = await scheduler.audit("members", AuditRequest(heal=True))  # audit --heal
        assert healed.healing.resent == 1
        await w.emulator.settle()
        assert w.members() == emails(rows)


async def test_a_removal_on_its_way_is_not_drift_on_the_list_or_off_it(
    audit_world: AuditWorld,
) -> None:
    # A strict stand-in's audit, while a removal SendGrid had accepted was yet to land,
    # reported its leaver `extra` (and a count-mismatch audit during churn, eight such);
    # the Drifted alarm then stayed until the next scheduled audit.
    w = audit_world
    rows = await left_with_its_removal_in_flight(w)
    assert LEAVER in w.members()  # SendGrid holds the removal

    leaving = await w.audit()

    assert leaving.outcome == "success", leaving.error
    assert not leaving.drifted, leaving.drift
    assert leaving.excluded == 1
    w.csv("vip", rows)  # back: its re-add waits for the removal
    assert (await w.sync()).counts()["held"] == 1
    await w.emulator.settle()  # the removal lands: off the list, its re-add still waiting
    back = await w.audit()
    assert not back.drifted, back.drift
