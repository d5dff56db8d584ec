"""A refresh of file sources that did not change is verified without staging a row."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from syncd.emulator import FaultRule
from syncd.reconciling import reading
from tests.reconciling.world import World, emails, people


async def test_an_unchanged_csv_segment_is_verified_and_nothing_written(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 200)
    w.destination({"vip": w.csv("vip", rows), "more": w.jsonl("more", people(300, 20))})
    first = await w.sync()
    assert (first.outcome, first.verified, first.read) == ("success", False, "staged")
    writes = len(w.emulator.write_requests())

    again = await w.sync()

    assert (again.outcome, again.verified, again.read) == ("success", True, "known")
    assert again.counts()["unchanged"] == 220
    assert len(w.emulator.write_requests()) == writes
    plan = await w.sync(dry_run=True)
    assert plan.verified
    assert plan.preview is not None
    assert plan.preview.adds == 0
    with w.ledger.session("members") as session:
        session.mark_in_sync(None)  # as after a run that failed: the rows are read again
    verified = await w.sync()
    assert (verified.read, verified.counts()["unchanged"]) == ("verified", 220)
    assert len(w.emulator.write_requests()) == writes


async def test_one_changed_row_fails_verification_and_only_it_is_sent(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 50)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    rows[17]["FirstName"] = "Renamed"
    w.csv("vip", rows)
    sent = w.sent_contacts()

    report = await w.sync()

    assert (report.verified, report.counts()["upserted"]) == (False, 1)
    assert w.sent_contacts() - sent == 1


async def test_duplicates_and_removals_are_never_mistaken_for_no_change(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 30)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    # the same number of rows: one contact gone, another one twice (first row wins)
    duplicated = [*rows[:-1], {**rows[0], "FirstName": "Second"}]
    w.csv("vip", duplicated)
    report = await w.sync(allow_removals=True)
    assert (report.verified, report.counts()["removed"]) == (False, 1)
    assert w.members() == emails(rows[:-1])
    kept = w.emulator.state.contact(rows[0]["EmailAddress"])
    assert kept is not None
    assert kept["first_name"] == "First0"


async def test_a_custom_field_recreated_in_sendgrid_fails_verification(sync_world: World) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 10))})
    await w.sync()
    # deleted and created again in SendGrid: the same name, another id
    w.emulator.state.custom_fields.pop(w.emulator.state.field_id("loyalty_tier"))
    w.emulator.state.add_custom_field("loyalty_tier", "Text")
    sent = w.sent_contacts()
    report = await w.sync()
    assert (report.verified, report.counts()["upserted"]) == (False, 10)
    assert w.sent_contacts() - sent == 10


async def test_a_field_recreated_with_another_type_judges_its_refused_rows_again(
    sync_world: World,
) -> None:
    # Refused for a Number field, a row was held back for good (out of retries at once):
    # the field recreated as Text, the same row was still refused for the Number field.
    w = sync_world
    state = w.emulator.state
    state.custom_fields.pop(state.field_id("loyalty_tier"))
    state.add_custom_field("loyalty_tier", "Number")
    rows = people(0, 5, tier="7")
    rows[2]["Tier"] = "gold"
    w.destination({"vip": w.csv("vip", rows)})
    first = await w.sync()
    assert [r.row for r in first.rejections] == [4]
    assert "(Number): the value is not a number" in first.rejections[0].reason
    assert (await w.sync()).rejections[0].row == 4  # not tried again: the same refusal
    state.custom_fields.pop(state.field_id("loyalty_tier"))
    state.add_custom_field("loyalty_tier", "Text")

    retyped = await w.sync()

    assert retyped.outcome == "success", retyped.error
    assert retyped.rejections == []
    held = state.contact(rows[2]["EmailAddress"])
    assert held is not None
    assert held["custom_fields"] == {state.field_id("loyalty_tier"): "gold"}


async def test_files_known_in_sync_are_not_even_parsed(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 40))})
    await w.sync()
    await w.sync()  # verified: records that SendGrid equals these bytes

    def no_parsing(*args: object, **kwargs: object) -> object:
        raise AssertionError("the files were parsed")

    monkeypatch.setattr(reading, "verify_read", no_parsing)
    monkeypatch.setattr(reading, "stage_segments", no_parsing)
    report = await w.sync()
    assert (report.outcome, report.verified, report.read) == ("success", True, "known")
    assert (report.counts()["unchanged"], report.staged.rows) == (40, 40)


async def test_new_bytes_or_a_new_binding_mean_reading_again(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 20)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    await w.sync()
    rows[3]["LastName"] = "Changed"
    w.csv("vip", rows)
    changed = await w.sync()
    assert (changed.verified, changed.counts()["upserted"]) == (False, 1)
    await w.sync()  # recorded again
    w.emulator.state.custom_fields.pop(w.emulator.state.field_id("loyalty_tier"))
    w.emulator.state.add_custom_field("loyalty_tier", "Text")
    rebound = await w.sync()
    assert (rebound.verified, rebound.counts()["upserted"]) == (False, 20)


async def test_a_run_that_may_change_sendgrid_forgets_the_record_first(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    await w.sync()
    with w.ledger.session("members") as session:
        assert session.in_sync() is not None
    original = (w.data / "vip.csv").read_bytes()
    rows[0]["LastName"] = "Changed"
    w.csv("vip", rows)
    w.emulator.faults.add(FaultRule(kind="job_failed", template="PUT /v3/marketing/contacts"))
    failed = await w.sync()
    assert failed.outcome == "permanent"  # a stall: see test_outbox
    with w.ledger.session("members") as session:
        assert session.in_sync() is None
    w.emulator.faults.clear()
    (w.data / "vip.csv").write_bytes(original)  # back to the bytes once known in sync
    back = await w.sync()
    assert back.outcome == "success"
    assert not back.verified or back.counts()["upserted"] == 0
    assert back.read != "known"  # the record was forgotten: the rows were read
    assert w.members() == emails(rows)


async def test_new_bytes_are_verified_and_only_the_buckets_that_differ_are_staged(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 30)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    writes = len(w.emulator.write_requests())
    w.csv("vip", list(reversed(rows)))  # other bytes, the same rows
    rewritten = await w.sync()
    assert (rewritten.outcome, rewritten.read) == ("success", "verified")
    assert rewritten.counts()["unchanged"] == 30
    assert len(w.emulator.write_requests()) == writes
    rows[7]["FirstName"] = "Changed"
    w.csv("vip", rows)
    with capture_logs() as logs:
        changed = await w.sync()
    assert (changed.read, changed.counts()["upserted"]) == ("staged", 1)
    assert changed.counts()["unchanged"] == 29
    differing = [e for e in logs if e["event"] == "reading.differing"]
    assert len(differing) == 1
    assert differing[0]["buckets"] in (1, 2)  # the row's old fingerprint's and its new one's
