"""A sync against the emulator over real HTTP: exactly what changed, nothing else."""

from __future__ import annotations

import pytest

from syncd.emulator import EmulatorConfig, FaultRule, ListSeed
from tests.fixtures_emulator import TEST_LIST_ID, strict_emulator_config
from tests.reconciling.world import World, emails, people

UPSERT = "PUT /v3/marketing/contacts"
REMOVE = "DELETE /v3/marketing/lists/{id}/contacts"


async def test_a_three_segment_destination_exports_the_union_once(sync_world: World) -> None:
    w = sync_world
    vip, buyers, optins = people(0, 40), people(30, 40), people(60, 30)
    w.destination(
        {
            "vip": w.csv("vip", vip),
            "buyers": w.sqlite("buyers", buyers),
            "optins": w.jsonl("optins", optins),
        }
    )

    report = await w.sync()

    assert report.outcome == "success", report.error
    assert w.members() == emails(vip) | emails(buyers) | emails(optins)
    assert report.counts()["upserted"] == 90
    assert w.sent_contacts() == 90
    stored = w.emulator.state.contact("person.5@example.com")
    assert stored is not None
    assert stored["first_name"] == "First5"
    assert stored["custom_fields"] == {"e1_T": "gold"}


async def test_a_contact_in_several_segments_takes_the_first_segments_values(
    sync_world: World,
) -> None:
    w = sync_world
    w.destination(
        {
            "first": w.csv("a", people(0, 3, tier="gold")),
            "second": w.csv("b", people(0, 3, tier="silver")),
        }
    )
    await w.sync()
    stored = w.emulator.state.contact("person.1@example.com")
    assert stored is not None
    assert stored["custom_fields"] == {"e1_T": "gold"}


async def test_a_second_sync_without_changes_sends_no_write_request(sync_world: World) -> None:
    w = sync_world
    w.destination(
        {
            "vip": w.csv("vip", people(0, 50)),
            "buyers": w.sqlite("b", people(40, 20)),
            "optins": w.jsonl("o", people(55, 10)),
        }
    )
    await w.sync()
    writes = len(w.emulator.write_requests())

    report = await w.sync()

    assert report.outcome == "success"
    assert len(w.emulator.write_requests()) == writes
    assert report.counts()["unchanged"] == 65


async def test_changing_five_rows_sends_exactly_those_five(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 100)
    w.destination(
        {
            "vip": w.csv("vip", rows),
            "b": w.sqlite("b", people(100, 10)),
            "c": w.jsonl("c", people(110, 10)),
        }
    )
    await w.sync()
    before = w.sent_contacts()
    for n in (3, 17, 42, 77, 99):
        rows[n]["LastName"] = f"Changed{n}"
    w.csv("vip", rows)

    report = await w.sync()

    assert report.outcome == "success"
    assert w.sent_contacts() - before == 5
    assert report.counts()["upserted"] == 5
    changed = w.emulator.state.contact("person.42@example.com")
    assert changed is not None
    assert changed["last_name"] == "Changed42"


async def test_removing_three_rows_removes_exactly_those_three(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 30)
    w.destination(
        {
            "vip": w.csv("vip", rows),
            "b": w.sqlite("b", people(30, 5)),
            "c": w.jsonl("c", people(35, 5)),
        }
    )
    await w.sync()
    everyone = w.members()
    removed = [rows.pop(20), rows.pop(10), rows.pop(0)]
    w.csv("vip", rows)
    writes_before = len(w.emulator.write_requests())

    report = await w.sync()

    assert report.outcome == "success", report.error
    assert w.members() == everyone - emails(removed)
    assert report.counts()["removed"] == 3
    new_writes = w.emulator.write_requests()[writes_before:]
    assert [r.template for r in new_writes] == [REMOVE]
    assert new_writes[0].contact_count == 3
    # removed from the list, not deleted from the account
    assert w.emulator.state.contact(removed[0]["EmailAddress"]) is not None


async def test_delete_contact_deletes_leavers_from_the_account(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)}, onLeave="deleteContact")
    await w.sync()
    gone = rows.pop()
    w.csv("vip", rows)
    report = await w.sync()
    assert report.outcome == "success", report.error
    assert w.emulator.state.contact(gone["EmailAddress"]) is None


OTHER_LIST = "3f0a6d2b-5e7c-4f1b-8d85-6b9c3e4f5a74"


class TestDeleteContactBesideAnotherDestination:
    @pytest.fixture
    def emulator_config(self) -> EmulatorConfig:
        lists = [ListSeed(id=TEST_LIST_ID, name="members"), ListSeed(id=OTHER_LIST, name="other")]
        return strict_emulator_config(lists=lists)

    async def test_a_leaver_another_destination_holds_is_only_taken_off_this_list(
        self, sync_world: World
    ) -> None:
        # Deleting it from the account would take it off the other destination's list too.
        w = sync_world
        rows = people(0, 10)
        key = {"env": "SENDGRID_API_KEY"}
        w.destination({"other": w.csv("other", rows[8:])}, name="other",
                      sendgrid={"apiKey": key, "listId": OTHER_LIST})  # fmt: skip
        w.destination({"vip": w.csv("vip", rows)}, onLeave="deleteContact")
        assert (await w.sync("other")).outcome == "success"
        assert (await w.sync()).outcome == "success"
        w.csv("vip", rows[:7])  # person 7 only here; persons 8 and 9 the other's too

        report = await w.sync(allow_removals=True)

        assert report.outcome == "success", report.error
        state = w.emulator.state
        assert state.contact("person.7@example.com") is None  # deleted: nobody else holds it
        assert w.members() == emails(rows[:7])
        assert state.list_members(OTHER_LIST) == emails(rows[8:])  # still there, on its list
        assert (await w.sync()).applied.pending_removals == 0  # confirmed, not sent again


async def test_keep_leaves_leavers_on_the_list(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)}, onLeave="keep")
    await w.sync()
    rows.pop()
    w.csv("vip", rows)
    report = await w.sync()
    assert report.outcome == "success"
    assert len(w.members()) == 10
    assert w.emulator.count_requests(template=REMOVE) == 0
    assert (report.counts()["gone"], report.counts()["kept"]) == (1, 1)  # as a plan says


async def test_rejected_rows_are_reported_with_row_and_reason_and_the_rest_goes_out(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 10)
    rows[2]["EmailAddress"] = "not-an-email"
    rows[4]["EmailAddress"] = "someone@example"
    rows[6]["FirstName"] = "x" * 51
    w.destination({"vip": w.csv("vip", rows)})

    report = await w.sync()

    assert report.outcome == "success"
    assert len(w.members()) == 7
    reasons = {
        (r.segment, r.row): r.reason for r in [*report.staged.rejections, *report.rejections]
    }
    assert reasons[("vip", 4)] == "email is not a valid address: no @"
    assert reasons[("vip", 8)] == "first_name is longer than 50 characters (51)"
    assert reasons[("vip", 6)].startswith("email is not a valid address")
    assert report.counts()["rejected"] == 3
    recorded = w.ledger.rejections(w.ledger.runs("members")[0].id)
    assert {(r.segment, r.row) for r in recorded} == set(reasons)


async def test_a_mapping_change_resends_only_contacts_whose_payload_changed(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 20)
    for n, row in enumerate(rows):
        row["Tier"] = "gold" if n < 5 else ""
    plain = {"email": "EmailAddress", "first_name": "FirstName", "last_name": "LastName"}
    w.destination({"vip": w.csv("vip", rows)}, mapping=plain)
    await w.sync()
    before = w.sent_contacts()
    # map a column only 5 people have a value in: only their payload changes
    w.destination(
        {"vip": w.csv("vip", rows)}, mapping=plain | {"custom_fields": {"loyalty_tier": "Tier"}}
    )
    report = await w.sync()
    assert report.outcome == "success", report.error
    assert w.sent_contacts() - before == 5
    tiered = w.emulator.state.contact("person.3@example.com")
    assert tiered is not None
    assert tiered["custom_fields"] == {"e1_T": "gold"}


async def test_a_value_cleared_in_the_source_is_cleared_in_sendgrid(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 3)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    rows[1]["LastName"] = ""
    w.csv("vip", rows)
    report = await w.sync()
    assert report.counts()["upserted"] == 1
    cleared = w.emulator.state.contact("person.1@example.com")
    assert cleared is not None
    assert not cleared.get("last_name")


async def test_unknown_custom_fields_fail_the_run_listing_the_available_ones(
    sync_world: World,
) -> None:
    w = sync_world
    w.destination(
        {"vip": w.csv("vip", people(0, 3))},
        mapping={"email": "EmailAddress", "custom_fields": {"tier": "Tier"}},
    )
    report = await w.sync()
    assert report.outcome == "permanent"
    assert report.error is not None
    assert "tier" in report.error
    assert "available: loyalty_tier, orders" in report.error
    assert w.emulator.write_requests() == []


async def test_the_list_must_exist_before_anything_is_sent(sync_world: World) -> None:
    w = sync_world
    w.destination(
        {"vip": w.csv("vip", people(0, 3))},
        sendgrid={
            "apiKey": {"env": "SENDGRID_API_KEY"},
            "listId": "00000000-0000-4000-8000-000000000000",
        },
    )
    report = await w.sync()
    assert report.outcome == "permanent"
    assert report.error is not None
    assert "list 00000000-0000-4000-8000-000000000000 does not exist" in report.error
    assert w.emulator.write_requests() == []


@pytest.mark.slow
async def test_upserts_with_faults_still_end_with_the_list_equal_to_the_segment(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 30)
    w.destination({"vip": w.csv("vip", rows)})
    w.emulator.faults.add(FaultRule(kind="status", template=UPSERT, status=503, times=2))
    w.emulator.faults.add(FaultRule(kind="rate_limit_storm", template=UPSERT, times=1, seconds=1))
    report = await w.sync()
    assert report.outcome == "success", report.error
    assert w.members() == emails(rows)
    assert TEST_LIST_ID


async def test_metrics_record_runs_contacts_and_equal_attempt_and_success_times(
    sync_world: World,
) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 4))})
    await w.sync()
    registry = w.metrics.registry

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"destination": "members", **labels})

    # The export-failing alert compares these two: equal after a success...
    success = sample("syncd_last_success_timestamp_seconds")
    assert success is not None
    assert sample("syncd_last_attempt_timestamp_seconds") == success
    assert sample("syncd_reconcile_total", outcome="success") == 1
    assert sample("syncd_contacts_total", action="upserted") == 4
    assert sample("syncd_segment_profiles") == 4
    # ...and the attempt is later after a failure.
    w.destination({"vip": w.csv("vip", people(0, 4))}, limits={"maxProfiles": 1})
    await w.sync()
    attempt = sample("syncd_last_attempt_timestamp_seconds")
    assert attempt is not None
    assert attempt > success
    assert sample("syncd_reconcile_total", outcome="guard") == 1
