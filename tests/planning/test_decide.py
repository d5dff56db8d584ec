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


@pytest.mark.parametrize(
    ("counts", "on_leave", "max_removal_fraction", "allow_removals", "removals", "blocked_says"),
    [
        pytest.param(
            {"gone": 20, "desired": 80},
            "removeFromList",
            0.2,
            False,
            20,
            None,
            id="removals within the allowed share go ahead",
        ),
        pytest.param(
            {"gone": 21, "desired": 79},
            "removeFromList",
            0.2,
            False,
            0,
            ["21 of 100 contacts (21%)", "syncd sync vip --allow-removals"],
            id="a shrink beyond the share blocks removals and says how to confirm",
        ),
        pytest.param(
            {"desired": 0, "unchanged": 0, "gone": 100},
            "removeFromList",
            1.0,
            False,
            0,
            ["came back empty", "syncd sync vip --allow-removals"],
            id="an empty segment blocks removals even within the share",
        ),
        pytest.param(
            {"desired": 0, "unchanged": 0, "gone": 100},
            "removeFromList",
            0.2,
            True,
            100,
            None,
            id="allow removals lifts the guard",
        ),
        pytest.param(
            {"desired": 0, "unchanged": 0, "gone": 100, "removing_already": 100},
            "removeFromList",
            0.2,
            False,
            100,
            None,
            id="leavers a confirmed run began to remove are not held back again",
        ),
        pytest.param(
            {"gone": 30, "desired": 80, "removing_already": 9},
            "removeFromList",
            0.2,
            False,
            0,
            ["21 of 100 contacts (21%)"],
            id="only the leavers no run began to remove are weighed",
        ),
        pytest.param(
            {"desired": 0, "unchanged": 0, "gone": 100},
            "keep",
            0.0,
            False,
            0,
            None,
            id="keep never removes and never blocks",
        ),
    ],
)
def test_the_removal_guard(
    counts: dict[str, int],
    on_leave: str,
    max_removal_fraction: float,
    allow_removals: bool,
    removals: int,
    blocked_says: list[str] | None,
) -> None:
    result = decide(
        diff(**counts),
        on_leave=on_leave,
        max_removal_fraction=max_removal_fraction,
        allow_removals=allow_removals,
        destination="vip",
    )
    assert result.removals == removals
    if blocked_says is None:
        assert result.removals_blocked is None
    else:
        assert result.removals_blocked is not None
        for words in blocked_says:
            assert words in result.removals_blocked
    assert result.removal_action == ("forget" if on_leave == "keep" else "remove")


@pytest.mark.parametrize(
    ("gone", "acked", "max_removal_fraction", "says"),
    [
        (1908, 4745, 0.0001, "1,908 of 4,745 contacts (40%) would leave the list, more than "
         "spec.limits.maxRemovalFraction (0.01%)"),
        (1, 4745, 0.0, "1 of 4,745 contacts (0.02%) would leave the list, more than "
         "spec.limits.maxRemovalFraction (0%)"),
        (1004, 10000, 0.1, "1,004 of 10,000 contacts (10.04%) would leave the list, more than "
         "spec.limits.maxRemovalFraction (10%)"),
        (34, 100, 0.333, "34 of 100 contacts (34%) would leave the list, more than "
         "spec.limits.maxRemovalFraction (33.3%)"),
    ],
)  # fmt: skip
def test_the_removal_guard_shows_the_limit_as_written_and_the_share_over_it(
    gone: int, acked: int, max_removal_fraction: float, says: str
) -> None:
    # A limit of 0.0001 read "(0%)", and a share just over a limit read as equal to it.
    result = decide(
        diff(acked=acked, desired=acked - gone, unchanged=acked - gone, gone=gone),
        on_leave="removeFromList",
        max_removal_fraction=max_removal_fraction,
        allow_removals=False,
        destination="vip",
    )
    assert result.removals_blocked is not None
    assert result.removals_blocked.startswith(says), result.removals_blocked


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
