"""Guards stop unsafe runs with a message that says why and what to do."""

from __future__ import annotations

from tests.reconciling.world import World, emails, people


async def test_more_profiles_than_max_profiles_fails_before_any_request(sync_world: World) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 12))}, limits={"maxProfiles": 10})
    report = await w.sync()
    assert report.outcome == "guard"
    assert report.error is not None
    assert "more than 10 profiles (spec.limits.maxProfiles)" in report.error
    assert "raise the limit" in report.error
    assert w.emulator.requests == []


async def test_duplicates_do_not_count_toward_max_profiles(sync_world: World) -> None:
    w = sync_world
    w.destination(
        {"a": w.csv("a", people(0, 10)), "b": w.csv("b", people(0, 10))},
        limits={"maxProfiles": 10},
    )
    report = await w.sync()
    assert report.outcome == "success", report.error


async def test_consent_not_given_exports_nothing(sync_world: World) -> None:
    w = sync_world
    w.destination({"vip": w.csv("vip", people(0, 5))}, consent={"dataPrivacyAcknowledged": False})
    report = await w.sync()
    assert report.outcome == "guard"
    assert report.error is not None
    assert "dataPrivacyAcknowledged is not true" in report.error
    assert w.emulator.requests == []
    assert w.members() == set()


async def test_an_empty_source_blocks_removals_until_confirmed(sync_world: World) -> None:
    w = sync_world
    rows = people(0, 20)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    w.csv("vip", [])

    blocked = await w.sync()

    assert blocked.outcome == "guard"
    assert blocked.error is not None
    assert "came back empty" in blocked.error
    assert "syncd sync members --allow-removals" in blocked.error
    assert w.members() == emails(rows)

    confirmed = await w.sync(allow_removals=True)
    assert confirmed.outcome == "success", confirmed.error
    assert w.members() == set()


async def test_a_large_shrink_still_sends_the_upserts_but_holds_the_removals(
    sync_world: World,
) -> None:
    w = sync_world
    rows = people(0, 10)
    w.destination({"vip": w.csv("vip", rows)})
    await w.sync()
    kept = rows[:5]
    kept[0]["LastName"] = "Updated"
    w.csv("vip", kept)

    report = await w.sync()

    assert report.outcome == "guard"
    assert report.error is not None
    assert "5 of 10 contacts (50%)" in report.error
    assert w.members() == emails(rows)
    updated = w.emulator.state.contact(kept[0]["EmailAddress"])
    assert updated is not None
    assert updated["last_name"] == "Updated"
