"""The audit over the emulator's real HTTP: what it finds, what it heals, what it leaves."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syncd.emulator import Emulator
from syncd.emulator.exports import Export, export_view
from syncd.emulator.faults import FaultRule
from syncd.emulator.handlers import jobs as emulator_jobs
from syncd.ledger import open_ledger
from tests.audit.conftest import AuditWorld, add_to_list, set_first_name, unlist
from tests.fixtures_emulator import TEST_API_KEY
from tests.reconciling.world import emails, people

EXPORT = "POST /v3/marketing/contacts/exports"
UPSERT = "PUT /v3/marketing/contacts"


def person(n: int) -> str:
    return f"person.{n}@example.com"


async def synced(w: AuditWorld, count: int = 40, **spec: Any) -> None:
    w.destination({"vip": w.csv("vip", people(0, count))}, **spec)
    assert (await w.sync()).outcome == "success"


async def test_after_a_clean_sync_the_audit_finds_no_drift(audit_world: AuditWorld) -> None:
    w = audit_world
    await synced(w)
    report = await w.audit()
    assert report.outcome == "success", report.error
    assert not report.drifted
    assert (report.list_contacts, report.profiles, report.excluded) == (40, 40, 0)
    assert [r.template for r in w.emulator.requests].count(EXPORT) == 1
    drift = w.ledger.drifts()["members"]
    assert (drift.missing, drift.extra, drift.stale, drift.unacknowledged) == (0, 0, 0, 0)


async def test_hand_removals_additions_and_edits_are_found_then_healed_when_asked(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    await synced(w)
    removed = [person(n) for n in range(7)]
    strangers = [f"stranger{n}@elsewhere.com" for n in range(5)]
    edited = [person(n) for n in range(10, 13)]
    await w.hand_edits(unlist(*removed), add_to_list(*strangers), set_first_name("X", *edited))

    found = await w.audit()
    assert found.drift.model_dump() == {"missing": 7, "extra": 5, "stale": 3, "unacknowledged": 0}
    assert found.examples.missing == sorted(removed)
    assert found.examples.extra == sorted(strangers)
    assert found.examples.stale == sorted(edited)
    assert w.members() == emails(people(0, 40)) - set(removed) | set(strangers)  # report only

    healed = await w.audit(heal=True)
    assert healed.outcome == "success", healed.error
    assert healed.healing.resent == 10
    assert w.members() == emails(people(0, 40)) | set(strangers)  # the strangers stay
    assert all(w.emulator.state.contact(e)["first_name"] != "X" for e in edited)  # type: ignore[index]

    pruned = await w.audit(heal=True, prune=True)
    assert pruned.drift.extra == 5
    assert pruned.healing.removed == 5
    assert w.members() == emails(people(0, 40))
    assert all(w.emulator.state.contact(e) is not None for e in strangers)  # off the list only

    assert not (await w.audit()).drifted


async def test_a_lost_ledger_is_repaired_without_a_request_and_leavers_pruned(
    audit_world: AuditWorld,
) -> None:
    """D8: the ledger is lost, 20 rows leave; the audit acknowledges the rest and prunes."""
    w = audit_world
    await synced(w, 100)
    w.ledger.close()
    for leftover in w.root.glob("state.db*"):
        leftover.unlink()
    w.ledger = open_ledger(w.settings.state)
    w.destination({"vip": w.csv("vip", people(20, 80))})
    upserts = [r.template for r in w.emulator.requests].count(UPSERT)

    report = await w.audit(heal=True, prune=True)
    assert report.drift.model_dump() == {
        "missing": 0,
        "extra": 20,
        "stale": 0,
        "unacknowledged": 80,
    }
    assert report.healing.acknowledged == 80
    assert w.members() == emails(people(20, 80))
    assert [r.template for r in w.emulator.requests].count(UPSERT) == upserts  # no re-send
    again = await w.sync()
    assert (again.outcome, again.plan.upserts if again.plan else -1) == ("success", 0)


async def test_deleted_contacts_are_missing_and_healed(audit_world: AuditWorld) -> None:
    w = audit_world
    await synced(w, 10)
    await w.hand_edits({"op": "delete", "emails": [person(1), person(2)]})
    found = await w.audit(heal=True)
    assert found.drift.missing == 2
    assert w.members() == emails(people(0, 10))


async def test_rows_syncd_refuses_are_not_missing(audit_world: AuditWorld) -> None:
    w = audit_world
    rows = people(0, 5)
    rows[2]["FirstName"] = "x" * 200  # longer than SendGrid takes: refused before sending
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    report = await w.audit()
    assert report.drift.missing == 0
    assert report.profiles == 5


async def test_pruning_more_than_max_removal_fraction_of_the_list_waits_for_confirmation(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    await synced(w, 10)
    await w.hand_edits(add_to_list(*[f"s{n}@elsewhere.com" for n in range(5)]))
    held = await w.audit(prune=True)
    assert held.healing.removed == 0
    assert held.healing.prune_blocked
    assert "maxRemovalFraction" in held.healing.prune_blocked
    assert len(w.members()) == 15
    confirmed = await w.audit(prune=True, allow_removals=True)
    assert confirmed.healing.removed == 5
    assert len(w.members()) == 10


async def test_prune_takes_extra_contacts_off_the_list_even_with_on_leave_delete_contact(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    await synced(w, 10, onLeave="deleteContact")
    await w.hand_edits(add_to_list("hand@elsewhere.com"))
    await w.audit(prune=True)
    assert "hand@elsewhere.com" not in w.members()
    assert w.emulator.state.contact("hand@elsewhere.com") is not None
    assert "DELETE /v3/marketing/contacts" not in {r.template for r in w.emulator.requests}


@pytest.mark.parametrize(
    "knobs",
    [
        {"export_gzip": True},
        {"export_gzip": False},
        {"export_file_rows": 3, "export_gzip": True},
        {"export_file_rows": 7, "export_header_case": "lower", "export_gzip": False},
        {"export_header_case": "lower", "export_gzip": True},
    ],
)
async def test_exports_are_read_whatever_their_layout(
    audit_world: AuditWorld, knobs: dict[str, object]
) -> None:
    w = audit_world
    await synced(w, 20)
    await w.hand_edits(set_first_name("Edited", person(4)), unlist(person(5)))
    w.knobs(**knobs)
    report = await w.audit()
    assert report.list_contacts == 19
    assert report.drift.model_dump() == {"missing": 1, "extra": 0, "stale": 1, "unacknowledged": 0}


async def test_a_failed_export_fails_the_audit_and_the_next_starts_another(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    await synced(w, 5)
    w.emulator.services.faults.add(
        FaultRule(kind="job_failed", template=EXPORT, times=1, reason="export broke")
    )
    failed = await w.audit()
    assert failed.outcome == "temporary"
    assert failed.error
    assert "export broke" in failed.error
    assert failed.audited_at is None
    again = await w.audit()
    assert again.outcome == "success"
    assert [r.template for r in w.emulator.requests].count(EXPORT) == 2


@pytest.mark.parametrize("way", ["quick", "full"])
async def test_an_export_file_cut_short_fails_the_audit_and_the_next_starts_another(
    audit_world: AuditWorld, way: str
) -> None:
    # The gzip error (EOFError) failed the audit as `unexpected`, and the export id was
    # kept: every audit for a day downloaded the same broken file again.
    w = audit_world
    await synced(w, 20)
    if way == "full":  # the segment's file changed since it was synced: read, compared
        w.csv("vip", people(0, 21))
    w.knobs(export_gzip=True)
    w.emulator.services.faults.add(FaultRule(kind="export_cut_short", template=EXPORT, times=1))
    failed = await w.audit()
    assert failed.outcome == "temporary"
    assert failed.error == (
        "the export file SendGrid gave was cut short or corrupt (it ends before gzip's "
        "end-of-stream marker); a new export is asked for at the next audit"
    )
    assert failed.audited_at is None
    again = await w.audit()
    assert again.outcome == "success", again.error
    assert [r.template for r in w.emulator.requests].count(EXPORT) == 2


Reshape = Callable[[Export, dict[str, object]], None]


def reshaped(change: Reshape) -> Callable[[Export, str], dict[str, object]]:
    """The emulator's view of an export, changed by `change` (SendGrid's answer reshaped)."""

    def view(export: Export, base_url: str) -> dict[str, object]:
        shown = export_view(export, base_url)
        change(export, shown)
        return shown

    return view


async def refused_then_whole(
    w: AuditWorld, monkeypatch: pytest.MonkeyPatch, change: Reshape, error: str
) -> None:
    """An audit whose export SendGrid answers reshaped by `change` fails as temporary with
    `error`, recording nothing; the next, answered whole, starts another export and finds
    nothing to heal (nothing was sent again)."""
    sends = [r.template for r in w.emulator.requests].count(UPSERT)
    exports = [r.template for r in w.emulator.requests].count(EXPORT)
    drifts = w.ledger.drifts()
    with monkeypatch.context() as patched:
        patched.setattr(emulator_jobs, "export_view", reshaped(change))
        refused = await w.audit(heal=True)
    assert refused.outcome == "temporary"
    assert error in (refused.error or "")
    assert refused.audited_at is None
    assert w.ledger.drifts() == drifts  # nothing recorded
    whole = await w.audit(heal=True)
    assert whole.outcome == "success", whole.error
    assert not whole.drifted
    assert [r.template for r in w.emulator.requests].count(EXPORT) == exports + 2
    assert [r.template for r in w.emulator.requests].count(UPSERT) == sends  # nothing resent


async def test_an_export_whose_files_hold_fewer_contacts_than_it_counted_is_not_compared(
    audit_world: AuditWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SendGrid's answers are untrusted: an export that lists one file fewer than it wrote
    (its `contact_count` still that of every file) would show five contacts as missing, and
    healing would send them again. The audit fails instead, and the next starts another."""
    w = audit_world
    await synced(w, 20)
    w.knobs(export_file_rows=5)  # four files of five contacts

    def one_file_fewer(export: Export, view: dict[str, object]) -> None:
        urls = view.get("urls")
        if isinstance(urls, list):
            view["urls"] = urls[:-1]

    await refused_then_whole(
        w, monkeypatch, one_file_fewer, "counted 20 contacts but its 3 file(s) held 15: incomplete"
    )


async def test_an_export_naming_no_file_and_no_count_is_not_read_as_an_empty_list(
    audit_world: AuditWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`urls` and `contact_count` are both optional in the spec: a ready export with no
    file and no count, read as an empty list, would show every acknowledged contact as
    missing and healing would send them all again. The audit fails instead."""
    w = audit_world
    await synced(w, 20)

    def no_file_no_count(export: Export, view: dict[str, object]) -> None:
        if view.get("status") == "ready":
            view["urls"] = []
            view.pop("contact_count", None)

    await refused_then_whole(
        w, monkeypatch, no_file_no_count, "named no file and no count, while 20 contacts are"
    )


async def test_an_export_counting_a_few_more_contacts_than_its_files_hold_is_compared(
    audit_world: AuditWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A count that disagrees by at most 1 % is noise, not a missing file: compared."""
    w = audit_world
    await synced(w, 200)

    def two_more(export: Export, view: dict[str, object]) -> None:
        if isinstance(view.get("contact_count"), int):
            view["contact_count"] = export.contact_count + 2

    monkeypatch.setattr(emulator_jobs, "export_view", reshaped(two_more))
    report = await w.audit()
    assert report.outcome == "success", report.error
    assert (report.list_contacts, report.drifted) == (200, False)


@pytest.mark.postgres
async def test_an_audit_over_a_postgresql_ledger(
    tmp_path: Path, emulator: Emulator, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENDGRID_API_KEY", TEST_API_KEY)
    w = AuditWorld(tmp_path, emulator)
    w.ledger.close()
    w.settings = w.settings.model_copy(update={"state": postgres_dsn})
    w.ledger = open_ledger(postgres_dsn)
    try:
        await synced(w, 30)
        await w.hand_edits(
            unlist(person(1)), add_to_list("hand@elsewhere.com"), set_first_name("X", person(2))
        )
        found = await w.audit(heal=True, prune=True)
        assert found.outcome == "success", found.error
        assert found.drift.model_dump() == {
            "missing": 1,
            "extra": 1,
            "stale": 1,
            "unacknowledged": 0,
        }
        assert w.members() == emails(people(0, 30))
        assert w.ledger.drifts()["members"].missing == 1
        assert not (await w.audit()).drifted
    finally:
        w.ledger.close()


async def test_an_extra_row_holding_a_members_contact_id_is_not_pruned_by_it(
    audit_world: AuditWorld,
) -> None:
    # An export is SendGrid's answer: a row on the list but not in the segment that carries
    # the id of a member's row would take that member off the list if pruned by it.
    w = audit_world
    await synced(w)
    stranger = "stranger@elsewhere.com"
    await w.hand_edits(add_to_list(stranger))
    contacts = w.emulator.state.contacts
    # As the export will show it (the emulator still removes by the member's id).
    contacts[stranger] = dataclasses.replace(contacts[stranger], id=contacts[person(0)].id)

    pruned = await w.audit(prune=True)

    assert pruned.outcome == "success", pruned.error
    assert pruned.drift.extra == 1
    assert pruned.healing.removed == 0
    assert person(0) in w.members()
