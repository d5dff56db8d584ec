"""The audit's quick way (bucket digests, `auditing.digests`) against the full comparison.

Whatever the list's drift, both ways must find the same contacts: each scenario is audited
twice (reports only, so nothing changes between them), the second time with the quick way
turned off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
import pytest
from structlog.testing import capture_logs

from syncd.contacts import ContactBuilder
from syncd.reconciling.auditing import auditor, digests
from syncd.shapes import AuditReport
from tests.audit.conftest import AuditWorld, add_to_list, set_first_name, unlist
from tests.reconciling.world import people


def person(n: int) -> str:
    return f"person.{n}@example.com"


async def audited(w: AuditWorld, **request: Any) -> tuple[AuditReport, MutableMapping[str, Any]]:
    with capture_logs() as logs:
        report = await w.audit(**request)
    done = next(entry for entry in logs if entry["event"] == "audit.done")
    return report, done


def findings(report: AuditReport) -> tuple[Any, ...]:
    return (
        report.outcome,
        report.drift.model_dump(),
        report.examples.model_dump(),
        report.list_contacts,
        report.profiles,
        report.excluded,
    )


async def test_a_clean_list_known_in_sync_is_audited_without_reading_the_segment(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    w.destination({"vip": w.csv("vip", people(0, 60))})
    assert (await w.sync()).outcome == "success"
    report, done = await audited(w)
    assert (done["way"], done["examined"]) == ("quick", 0)
    assert "read_s" not in done  # the segment was not read
    assert not report.drifted
    assert (report.list_contacts, report.profiles) == (60, 60)


async def unlisted(w: AuditWorld) -> None:
    await w.hand_edits(unlist(person(1), person(2)))


async def strangers(w: AuditWorld) -> None:
    await w.hand_edits(add_to_list("stranger1@elsewhere.com", "stranger2@elsewhere.com"))


async def edited(w: AuditWorld) -> None:
    await w.hand_edits(set_first_name("Changed", person(3), person(4)))


async def edited_to_what_syncd_sends(w: AuditWorld) -> None:
    # A hand edit that changes nothing syncd maps: no drift, whichever way.
    await w.hand_edits(set_first_name("First5", person(5)))


async def deleted(w: AuditWorld) -> None:
    await w.hand_edits({"op": "delete", "emails": [person(6)]})


async def everything(w: AuditWorld) -> None:
    for edit in (unlisted, strangers, edited, deleted):
        await edit(w)


SCENARIOS: list[Callable[[AuditWorld], Awaitable[None]]] = [
    unlisted,
    strangers,
    edited,
    edited_to_what_syncd_sends,
    deleted,
    everything,
]


@pytest.mark.parametrize("edit", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
async def test_the_quick_way_finds_what_the_full_comparison_finds(
    audit_world: AuditWorld, edit: Callable[[AuditWorld], Awaitable[None]], monkeypatch: Any
) -> None:
    w = audit_world
    w.destination({"vip": w.csv("vip", people(0, 50))})
    assert (await w.sync()).outcome == "success"
    await edit(w)
    quick, done = await audited(w)
    assert done["way"] == "quick"
    monkeypatch.setattr(auditor, "known_in_sync", lambda *_: False)
    full, done = await audited(w)
    assert done["way"] == "full"
    assert findings(quick) == findings(full)


async def test_many_differing_buckets_give_way_to_the_full_comparison(
    audit_world: AuditWorld, monkeypatch: Any
) -> None:
    w = audit_world
    w.destination({"vip": w.csv("vip", people(0, 30))})
    assert (await w.sync()).outcome == "success"
    await everything(w)
    monkeypatch.setattr(digests, "MAX_EXAMINED", 2)
    report, done = await audited(w)
    assert done["way"] == "quick, then full"
    assert report.drift.model_dump() == {"missing": 3, "extra": 2, "stale": 2, "unacknowledged": 0}


async def test_sources_changed_since_the_last_sync_are_read_in_full(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    w.destination({"vip": w.csv("vip", people(0, 20))})
    assert (await w.sync()).outcome == "success"
    w.csv("vip", people(0, 21))  # one more row, not synced yet
    report, done = await audited(w)
    assert done["way"] == "full"
    assert report.drift.missing == 1


async def test_a_healed_audit_leaves_the_next_one_to_the_full_comparison_until_a_sync(
    audit_world: AuditWorld,
) -> None:
    w = audit_world
    w.destination({"vip": w.csv("vip", people(0, 20))})
    assert (await w.sync()).outcome == "success"
    await edited(w)
    healed, _ = await audited(w, heal=True)
    assert healed.healing.resent == 2
    report, done = await audited(w)
    assert not report.drifted
    assert done["way"] == "quick"  # the heal's run recorded the sources in sync again


def test_held_print_is_the_fingerprint_of_the_payload_built_from_the_same_values() -> None:
    from syncd.destinations import Mapping

    mapping = Mapping.model_validate(
        {
            "email": "Email",
            "first_name": "First",
            "city": "Town",
            "custom_fields": {"tier": "Tier", "Score": "Points"},
        }
    )
    builder = ContactBuilder(mapping)
    for row in (
        {"Email": "A@Example.com", "First": "Ann", "Town": "Oslo", "Tier": "gold", "Points": "12"},
        {"Email": "b@example.com", "First": "", "Town": "Bergen", "Tier": "", "Points": "7"},
        {"Email": "c@example.com", "First": " Carl ", "Town": "", "Tier": "x", "Points": ""},
        {"Email": "d@example.com", "First": "", "Town": "", "Tier": "", "Points": ""},
    ):
        built = builder.build([row[column] for column in builder.columns])
        assert not isinstance(built, str)
        shown = orjson.loads(built.payload)
        email = shown.pop("email")
        assert builder.held_print(email, shown) == built.fingerprint
        # The same values as CSV cells, in another order, with a column syncd does not map.
        cells = ["", *shown.values(), *shown.get("custom_fields", {}).values()]
        header = ["phone_number", *shown, *shown.get("custom_fields", {})]
        reserved = {name: n for n, name in enumerate(header) if name != "custom_fields"}
        custom = {name: n for n, name in enumerate(header) if name in ("tier", "Score")}
        cells = [c if isinstance(c, str) else "" for c in cells]
        assert builder.held_printer(reserved, custom)(email, cells) == built.fingerprint
        shown["first_name"] = "Other"
        assert builder.held_print(email, shown) != built.fingerprint


async def test_contacts_still_settling_are_left_out_the_same_way(
    audit_world: AuditWorld, monkeypatch: Any
) -> None:
    w = audit_world
    w.settings = w.settings.model_copy(update={"audit_settle_window": 3600.0})
    w.destination({"vip": w.csv("vip", people(0, 30))})
    assert (await w.sync()).outcome == "success"
    await everything(w)  # the edits' stamps shrink the window (`settled_before`)
    quick, done = await audited(w)
    assert done["way"] == "quick"
    monkeypatch.setattr(auditor, "known_in_sync", lambda *_: False)
    full, _ = await audited(w)
    assert findings(quick) == findings(full)
    assert quick.drift.extra == 2


async def test_a_sync_still_settling_is_left_out_the_same_way(
    audit_world: AuditWorld, monkeypatch: Any
) -> None:
    w = audit_world
    w.destination({"vip": w.csv("vip", people(0, 30))})
    assert (await w.sync()).outcome == "success"
    await w.hand_edits(unlist(person(1)), add_to_list("stranger1@elsewhere.com"))
    # Every contact syncd wrote counts as settling: none of them is drift, either way.
    monkeypatch.setattr(auditor, "settled_before", lambda *_: 0.0)
    quick, done = await audited(w)
    assert done["way"] == "quick"
    assert 0 < done["examined"] <= 31  # the settling contacts' buckets, and the stranger's
    monkeypatch.setattr(auditor, "known_in_sync", lambda *_: False)
    full, _ = await audited(w)
    assert findings(quick) == findings(full)
    assert quick.excluded == 30
    assert quick.drift.model_dump() == {"missing": 0, "extra": 1, "stale": 0, "unacknowledged": 0}
