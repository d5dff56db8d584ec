"""Before any write a run checks the key's scopes and the list, with messages that say what to
do: the same checks `syncd validate --online` makes."""

from __future__ import annotations

import aiohttp
import pytest

from syncd.emulator import ALL_SCOPES, EmulatorConfig
from syncd.loading import load_directory
from syncd.reconciling import Reconciler
from syncd.sendgrid import missing_scopes
from tests.fixtures_emulator import TEST_API_KEY, strict_emulator_config
from tests.reconciling.world import World, people

NO_DELETE_KEY = "SG.no-delete-scope.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKL"
CAMPAIGNS_KEY = "SG.campaigns-scopes.0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJK"
"""Marketing's "full access" as some of SendGrid's permission lists give it: the four
`marketing_campaigns.*` scopes, without `marketing.read`."""
CAMPAIGNS_SCOPES = frozenset(
    f"marketing_campaigns.{verb}" for verb in ("create", "read", "update", "delete")
)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    keys = {
        TEST_API_KEY: ALL_SCOPES,
        NO_DELETE_KEY: ALL_SCOPES - {"marketing_campaigns.delete"},
        CAMPAIGNS_KEY: CAMPAIGNS_SCOPES,
    }
    return strict_emulator_config(api_keys=keys)


async def test_a_key_without_the_delete_scope_fails_before_any_write_naming_the_scope(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = sync_world
    monkeypatch.setenv("SENDGRID_API_KEY", NO_DELETE_KEY)
    w.destination({"vip": w.csv("vip", people(0, 3))}, onLeave="removeFromList")

    report = await w.sync()

    assert report.outcome == "permanent"
    assert report.error is not None
    assert "lacks the scope(s) marketing_campaigns.delete" in report.error
    assert "nothing was written" in report.error
    assert w.emulator.write_requests() == []


async def test_the_same_key_may_sync_a_destination_that_keeps_its_leavers(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = sync_world
    monkeypatch.setenv("SENDGRID_API_KEY", NO_DELETE_KEY)
    w.destination({"vip": w.csv("vip", people(0, 3))}, onLeave="keep")

    report = await w.sync()

    assert report.outcome == "success", report.error
    assert len(w.members()) == 3


async def test_a_legacy_account_is_named_as_such(sync_world: World) -> None:
    w = sync_world
    w.emulator.services.behaviour = w.emulator.services.behaviour.changed({"legacy_account": True})
    w.destination({"vip": w.csv("vip", people(0, 3))})

    report = await w.sync()

    assert report.outcome == "permanent"
    assert report.error is not None
    assert "the account may use legacy Marketing Campaigns" in report.error
    assert w.emulator.write_requests() == []


async def test_either_read_scope_passes_the_check_and_sendgrid_has_the_last_word(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Which read scope SendGrid checks is undocumented: syncd does not refuse a key SendGrid
    # may accept. This emulator wants `marketing.read`; its 403 is explained, not hidden.
    w = sync_world
    monkeypatch.setenv("SENDGRID_API_KEY", CAMPAIGNS_KEY)
    w.destination({"vip": w.csv("vip", people(0, 3))})

    report = await w.sync()

    assert report.outcome == "permanent"
    assert report.error is not None
    assert "lacks the scope" not in report.error
    assert "marketing.read and marketing_campaigns.read both exist" in report.error
    assert w.emulator.write_requests() == []


def test_a_key_lacking_both_read_scopes_is_told_either_would_do() -> None:
    assert list(missing_scopes({"marketing_campaigns.create"}, removes=False)) == [
        "marketing.read or marketing_campaigns.read",
        "marketing_campaigns.update",
    ]
    assert missing_scopes(CAMPAIGNS_SCOPES, removes=True) == {}


async def test_a_scope_granted_after_a_refusal_is_seen_at_the_next_run(
    sync_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scopes were remembered for an hour, the missing one too: the destination kept
    # failing "lacks the scope" after the operator granted it, on demand or not.
    w = sync_world
    monkeypatch.setenv("SENDGRID_API_KEY", NO_DELETE_KEY)
    w.destination({"vip": w.csv("vip", people(0, 3))}, onLeave="removeFromList")
    loaded = load_directory(w.destinations, w.settings.allowlists()).destinations["members"]
    async with aiohttp.ClientSession() as http:
        daemons = Reconciler(w.ledger, http, w.settings, w.metrics, clock=w.clock)
        refused = await daemons.run(loaded)
        w.emulator.services.api_keys[NO_DELETE_KEY] = ALL_SCOPES  # the operator grants it
        granted = await daemons.run(loaded)

    assert refused.outcome == "permanent"
    assert granted.outcome == "success", granted.error
    assert len(w.members()) == 3
