"""The outbox keeps its promise through crashes, odd job outcomes and retries."""

from __future__ import annotations

import pytest

from syncd import failpoints
from syncd.emulator import FaultRule
from syncd.ledger import RETRY_BUDGET
from syncd.reconciling.plans import plan_entry
from syncd.reconciling.removing import REMOVALS_AT_ONCE
from tests.reconciling.world import World, emails, people

UPSERT = "PUT /v3/marketing/contacts"
REMOVE = "DELETE /v3/marketing/lists/{id}/contacts"


def arm(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(failpoints, "_ARMED", {name: ("raise", 1)})
    monkeypatch.setattr(failpoints, "_HITS", {})


@pytest.mark.parametrize(
    "point",
    [
        "after-outbox-commit",
        "before-upsert-request",
        "after-202-before-job-commit",
        "after-job-commit",
        "while-polling",
        "after-completed-before-ack",
        "after-ack-commit",
    ],
)
async def test_a_run_that_dies_at_any_step_is_finished_by_the_next(
    sync_world: World, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    w = sync_world
    rows = people(0, 25)
    w.destination({"vip": w.csv("vip", rows)})
    arm(monkeypatch, point)

    broken = await w.sync()
    assert broken.outcome == "unexpected"
    assert f"failpoint {point}" in (broken.error or "")
    puts_before = w.emulator.count_requests(template=UPSERT)
    jobs_known = point in ("after-job-commit", "while-polling", "after-completed-before-ack")

    monkeypatch.setattr(failpoints, "_ARMED", {})
    healed = await w.sync()

    assert healed.outcome == "success", healed.error
    assert w.members() == emails(rows)
    new_puts = w.emulator.count_requests(template=UPSERT) - puts_before
    if jobs_known:
        assert new_puts == 0  # a recorded job id is polled, never sent again
    elif point != "after-ack-commit":
        assert new_puts <= 1  # at most the one batch in doubt
    again = await w.sync()
    assert again.counts()["upserted"] == 0


async def test_an_errored_job_acknowledges_the_rest_and_retries_the_rejected_then_reports(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 1000)
    victims = [rows[n]["EmailAddress"].lower() for n in (5, 500, 999)]
    w.destination({"vip": w.csv("vip", rows)})
    w.emulator.faults.add(
        FaultRule(kind="job_errored", template=UPSERT, emails=victims, reason="invalid email")
    )

    first = await w.sync()
    assert first.counts()["upserted"] == 997
    assert first.counts()["rejected"] == 3
    assert w.members() == emails(rows) - set(victims)
    for attempt in range(2, RETRY_BUDGET + 1):
        retry = await w.sync()
        assert w.sent_contacts() == 1000 + 3 * (attempt - 1)
        assert retry.counts()["rejected"] == 3
    sent = w.sent_contacts()
    settled = await w.sync()
    assert w.sent_contacts() == sent  # out of retries: reported, not sent
    assert {r.reason for r in settled.rejections} == {"invalid email"}
    assert settled.counts()["rejected"] == 3


async def test_a_contact_refused_for_good_is_reported_at_the_row_that_holds_it_now(
    sync_world: World,
) -> None:
    # Reasons never quote the value: the row is the only pointer, and it pointed at the
    # row where the contact was when SendGrid refused it, a good contact's after a shift.
    w = sync_world
    rows = people(0, 20)
    w.destination({"vip": w.csv("vip", rows)})
    w.emulator.faults.add(
        FaultRule(
            kind="refuse_contacts", template=UPSERT, emails=["person.12@example.com"], reason="no"
        )
    )
    for _ in range(RETRY_BUDGET):
        await w.sync()
    w.csv("vip", rows[3:])  # three rows fewer above it: row 14 is row 11 now

    shifted = await w.sync()

    assert [(r.segment, r.row, r.email) for r in shifted.rejections] == [
        ("vip", 11, "person.12@example.com")
    ]


async def test_a_job_failed_as_a_whole_stalls_and_charges_nothing_to_its_contacts(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)})
    w.emulator.faults.add(
        FaultRule(
            kind="job_failed", template=UPSERT, times=1, reason="you have hit your contact limit"
        )
    )
    failed = await w.sync()
    assert (failed.outcome, failed.recheck) == ("permanent", True)
    assert "failed a job of 10 contact(s) as a whole" in (failed.error or "")
    assert failed.rejected == 0
    assert w.members() == set()
    healed = await w.sync()
    assert healed.outcome == "success"
    assert w.members() == emails(rows)


async def test_jobs_applied_out_of_order_still_leave_every_contact_on_its_latest_value(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 30)
    w.destination({"vip": w.csv("vip", rows)})
    w.emulator.faults.add(FaultRule(kind="out_of_order", seconds=0.05))
    for version in range(3):
        for row in rows:
            row["LastName"] = f"v{version}"
        w.csv("vip", rows)
        report = await w.sync()
        assert report.outcome == "success", report.error
    for row in rows:
        stored = w.emulator.state.contact(row["EmailAddress"])
        assert stored is not None
        assert stored["last_name"] == "v2"


async def test_ten_refreshes_without_change_write_nothing(sync_world: World) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 50))})
    await w.sync()
    writes = len(w.emulator.write_requests())
    for _ in range(10):
        await w.sync()
    assert len(w.emulator.write_requests()) == writes


async def test_a_lost_ledger_costs_one_full_idempotent_resend(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 40)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    w.ledger.close()
    for leftover in w.root.glob("state.db*"):
        leftover.unlink()
    from syncd.ledger import open_ledger

    w.ledger = open_ledger(w.settings.state)
    report = await w.sync()
    assert report.counts()["upserted"] == 40
    assert w.members() == emails(rows)
    assert (await w.sync()).counts()["upserted"] == 0


async def test_a_crash_while_a_page_of_removals_is_answered_repeats_only_those_in_flight(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every batch of the page was sent before any job id was recorded: a crash at the
    # first record sent all ten batches again (the docs promise at most the ones in doubt).
    w = sync_world
    rows = people(0, 6000)
    w.destination({"vip": w.csv("vip", rows)})
    assert (await w.sync()).outcome == "success"
    w.csv("vip", rows[1000:])  # 1,000 leavers: ten removal batches of 100
    arm(monkeypatch, "after-202-before-job-commit")

    broken = await w.sync()
    assert broken.outcome == "unexpected"
    monkeypatch.setattr(failpoints, "_ARMED", {})
    healed = await w.sync()

    assert healed.outcome == "success", healed.error
    assert w.members() == emails(rows[1000:])
    removals = w.emulator.count_requests(template=REMOVE)
    # Ten batches, repeated: those in flight, and one aiohttp may re-send by itself on a
    # dropped kept-alive connection (docs/guarantees.md). Before, all ten: 20.
    assert removals <= 10 + REMOVALS_AT_ONCE + 1


async def test_a_plan_after_a_crash_counts_the_batch_left_open_as_a_change(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch was recorded, never sent: the plan said `noChanges` (exit 0) with 120
    # contacts in no category, and the next sync sent them.
    w = sync_world
    rows = people(0, 1020)
    w.destination({"vip": w.csv("vip", rows[:900])})
    assert (await w.sync()).outcome == "success"
    w.csv("vip", rows)
    arm(monkeypatch, "after-outbox-commit")
    assert (await w.sync()).outcome == "unexpected"
    monkeypatch.setattr(failpoints, "_ARMED", {})

    entry = plan_entry(await w.sync(dry_run=True), file="vip.yaml", first_export=False)

    assert entry.result == "changes"
    assert entry.counts is not None
    assert (entry.counts.unchanged, entry.counts.held) == (900, 120)


async def test_contacts_an_earlier_runs_batch_lands_with_are_counted_as_resumed(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run that finished a crashed run's batch counted its contacts as upserted and
    # as unchanged (its diff came after they landed), with nothing saying why.
    w = sync_world
    rows = people(0, 25)
    w.destination({"vip": w.csv("vip", rows)})
    arm(monkeypatch, "after-outbox-commit")
    assert (await w.sync()).outcome == "unexpected"
    monkeypatch.setattr(failpoints, "_ARMED", {})

    healed = (await w.sync()).counts()

    assert (healed["upserted"], healed["resumed"], healed["unchanged"]) == (25, 25, 25)
    assert (await w.sync()).counts()["resumed"] == 0
