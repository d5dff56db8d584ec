"""Contacts syncd wrote moments before an export are left out, unless the export itself
shows SendGrid held a later change (then a hand edit made after a sync is found at once)."""

from __future__ import annotations

import time

import pytest

from syncd.cli.auditing import audit_text
from syncd.emulator import EmulatorConfig
from syncd.reconciling.auditing.auditor import settled_before
from tests.audit.conftest import AuditWorld, add_to_list, set_first_name, unlist
from tests.fixtures_emulator import strict_emulator_config
from tests.reconciling.world import people

SENDGRID_CLOCK_OFFSET = [0.0]
"""Seconds SendGrid's clock (the emulator's timestamps) runs ahead of syncd's."""


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    SENDGRID_CLOCK_OFFSET[0] = 0.0
    return strict_emulator_config(wall_clock=lambda: time.time() + SENDGRID_CLOCK_OFFSET[0])


def person(n: int) -> str:
    return f"person.{n}@example.com"


async def synced_with_a_settle_window(w: AuditWorld, count: int) -> None:
    w.settings = w.settings.model_copy(update={"audit_settle_window": 600.0})
    w.destination({"vip": w.csv("vip", people(0, count))})
    assert (await w.sync()).outcome == "success"


async def test_without_a_later_change_in_the_export_recent_contacts_are_left_out(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    SENDGRID_CLOCK_OFFSET[0] = -30.0  # every change SendGrid shows predates syncd's writes
    await synced_with_a_settle_window(w, 10)
    await w.hand_edits(unlist(person(3)), add_to_list("new@elsewhere.com"))
    report = await w.audit()
    # Everyone was acknowledged a moment ago: SendGrid may not export them yet.
    assert report.excluded == 10
    assert report.drift.model_dump() == {"missing": 0, "extra": 1, "stale": 0, "unacknowledged": 0}


async def test_an_audit_that_left_contacts_out_does_not_call_the_list_equal(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    SENDGRID_CLOCK_OFFSET[0] = -30.0
    await synced_with_a_settle_window(w, 10)
    report = await w.audit()
    assert (report.excluded, report.drifted) == (10, False)
    text = audit_text(report)
    assert "the list equals the segment" not in text, text
    assert "no drift among the contacts compared (10 left out, above)" in text, text
    assert "within SYNCD_AUDIT_SETTLE_WINDOW" in text


async def test_a_change_sendgrid_made_after_the_sync_shows_the_export_has_caught_up(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    await synced_with_a_settle_window(w, 10)
    SENDGRID_CLOCK_OFFSET[0] = 5.0  # the hand edits come after the sync, by SendGrid's clock
    await w.hand_edits(
        unlist(person(3)),
        add_to_list("new@elsewhere.com"),
        set_first_name("Edited", person(5)),
    )
    report = await w.audit()
    assert report.excluded == 0
    assert report.drift.model_dump() == {"missing": 1, "extra": 1, "stale": 1, "unacknowledged": 0}


def test_the_window_shrinks_to_the_newest_change_but_never_past_the_export() -> None:
    assert settled_before(1000.0, 600.0, None) == 400.0
    assert settled_before(1000.0, 600.0, 300.0) == 400.0  # older than the window: no news
    assert settled_before(1000.0, 600.0, 700.0) == 700.0
    assert settled_before(1000.0, 600.0, 5000.0) == 1000.0  # a clock ahead of syncd's
