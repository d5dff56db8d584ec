from __future__ import annotations

import pytest

from syncd.errors import GuardTripped
from syncd.planning import DiffCounts, decide, profile_limit_exceeded, require_consent


def diff(**counts: int) -> DiffCounts:
    base = {
        "desired": 100,
        "acked": 100,
        "new": 0,
        "changed": 0,
        "unchanged": 100,
        "gone": 0,
        "held": 0,
        "exhausted": 0,
    }
    return DiffCounts(**(base | counts))


def test_removals_within_the_allowed_share_go_ahead() -> None:
    result = decide(
        diff(gone=20, desired=80),
        on_leave="removeFromList",
        max_removal_fraction=0.2,
        allow_removals=False,
        destination="vip",
    )
    assert result.removals_blocked is None
    assert result.removals == 20


def test_a_shrink_beyond_the_share_blocks_removals_and_says_how_to_confirm() -> None:
    result = decide(
        diff(gone=21, desired=79),
        on_leave="removeFromList",
        max_removal_fraction=0.2,
        allow_removals=False,
        destination="vip",
    )
    assert result.removals == 0
    assert result.removals_blocked is not None
    assert "21 of 100 contacts (21%)" in result.removals_blocked
    assert "syncd sync vip --allow-removals" in result.removals_blocked


def test_an_empty_segment_blocks_removals_even_within_the_share() -> None:
    result = decide(
        diff(desired=0, unchanged=0, gone=100),
        on_leave="removeFromList",
        max_removal_fraction=1.0,
        allow_removals=False,
        destination="vip",
    )
    assert result.removals_blocked is not None
    assert "came back empty" in result.removals_blocked


def test_allow_removals_lifts_the_guard() -> None:
    result = decide(
        diff(desired=0, unchanged=0, gone=100),
        on_leave="removeFromList",
        max_removal_fraction=0.2,
        allow_removals=True,
        destination="vip",
    )
    assert result.removals == 100


def test_keep_never_removes_and_never_blocks() -> None:
    result = decide(
        diff(desired=0, unchanged=0, gone=100),
        on_leave="keep",
        max_removal_fraction=0.0,
        allow_removals=False,
        destination="vip",
    )
    assert result.removals == 0
    assert result.removals_blocked is None
    assert result.removal_action == "forget"


def test_contacts_held_by_open_batches_or_out_of_retries_are_not_sent() -> None:
    result = decide(
        diff(new=7, changed=3, unchanged=85, held=3, exhausted=2),
        on_leave="removeFromList",
        max_removal_fraction=0.2,
        allow_removals=False,
        destination="vip",
    )
    assert result.upserts == 10
    assert result.changes


def test_consent_must_be_given() -> None:
    require_consent(True)
    with pytest.raises(GuardTripped, match="dataPrivacyAcknowledged is not true"):
        require_consent(False)


def test_the_profile_limit_names_the_setting() -> None:
    assert profile_limit_exceeded(100, 100) is None
    error = profile_limit_exceeded(101, 100)
    assert error is not None
    assert "spec.limits.maxProfiles" in error.message
