"""An export SendGrid never finishes: given up after SYNCD_AUDIT_EXPORT_TIMEOUT, counted from
when it was started, its id forgotten so that the next audit starts another."""

from __future__ import annotations

import asyncio

import pytest

from syncd.clock import LoopClock
from syncd.emulator import EmulatorConfig
from syncd.emulator.exports import Export
from syncd.emulator.faults import FaultRule
from tests.audit.conftest import AuditWorld
from tests.audit.test_audit import EXPORT, refused_then_whole, synced
from tests.fixtures_emulator import strict_emulator_config

TIMEOUT = 600.0
"""SYNCD_AUDIT_EXPORT_TIMEOUT here: ten minutes of fake time polled is quicker than an hour."""


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """SendGrid's rate-limit windows on the fake loop time the polling takes."""
    return strict_emulator_config(wall_clock=LoopClock().now)


def polling_as_deployed(w: AuditWorld) -> None:
    """Epoch time on the loop, and polls every 30 s at most (the default), not the test
    world's 50 ms: minutes of those would meet SendGrid's rate limit, not the export's end."""
    w.follow_the_loop()
    w.settings = w.settings.model_copy(
        update={"job_poll_max_interval": 30.0, "audit_export_timeout": TIMEOUT}
    )


def exports_started(w: AuditWorld) -> int:
    return [r.template for r in w.emulator.requests].count(EXPORT)


@pytest.mark.looptime
async def test_an_export_pending_for_good_is_given_up_and_the_next_audit_starts_another(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    polling_as_deployed(w)
    await synced(w, 5)
    w.emulator.services.faults.add(FaultRule(kind="export_stuck", template=EXPORT, times=1))
    loop = asyncio.get_running_loop()
    began = loop.time()
    async with asyncio.timeout(2 * TIMEOUT):  # before the wait had a bound: for ever
        given_up = await w.audit()
    assert TIMEOUT <= loop.time() - began < TIMEOUT + 60  # not for ever: the runs wait behind it
    assert given_up.outcome == "temporary"
    assert "still pending 10m after it was started (SYNCD_AUDIT_EXPORT_TIMEOUT)" in (
        given_up.error or ""
    )
    assert given_up.audited_at is None
    again = await w.audit()  # not the stuck export again: its id was forgotten
    assert again.outcome == "success", again.error
    assert exports_started(w) == 2


@pytest.mark.looptime
async def test_a_restart_resumes_the_export_without_starting_its_time_again(
    audit_world: AuditWorld,
) -> None:
    """An export id kept across a restart is resumed (RESUME_WITHIN: a day); restarting
    must not grant it its time again each time."""
    w = audit_world
    polling_as_deployed(w)
    await synced(w, 5)
    w.emulator.services.faults.add(FaultRule(kind="export_stuck", template=EXPORT, times=1))
    loop = asyncio.get_running_loop()
    began = loop.time()
    stopped = await w.audit(stopping=lambda: loop.time() - began > 0.75 * TIMEOUT)
    assert stopped.outcome == "temporary"
    assert exports_started(w) == 1
    resumed_at = loop.time()
    async with asyncio.timeout(2 * TIMEOUT):
        given_up = await w.audit()
    assert loop.time() - resumed_at < 0.3 * TIMEOUT  # counted from the export's start
    assert "still pending 10m after it was started" in (given_up.error or "")
    assert exports_started(w) == 1  # the same export, resumed, then given up
    assert (await w.audit()).outcome == "success"
    assert exports_started(w) == 2


@pytest.mark.looptime
async def test_an_export_status_sendgrid_does_not_document_counts_as_failed(
    audit_world: AuditWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spec allows `pending`, `ready` and `failure`: `failed` is not waited on as if
    pending (for ever, before the export's wait had a bound)."""
    w = audit_world
    await synced(w, 5)

    def failed(export: Export, view: dict[str, object]) -> None:
        view["status"] = "failed"
        view.pop("urls", None)

    async with asyncio.timeout(TIMEOUT):  # before: waited on as if pending, for ever
        await refused_then_whole(
            w, monkeypatch, failed, "its status was 'failed', which SendGrid does not document"
        )
