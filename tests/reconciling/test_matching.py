"""Matching the prints of the differing buckets with the acknowledged ones
(`reconciling.matching`): what is staged, what is left out, what may have left."""

from __future__ import annotations

from array import array

from syncd.ledger import GROUP_SHIFT, GROUPS, UNSIGNED
from syncd.reconciling.matching import by_group, match

BUCKET = 5  # group 0
OTHER = 5 << GROUP_SHIFT | 9  # group 5


def printed(n: int, bucket: int = BUCKET) -> int:
    return n << 16 | bucket


def grouped(prints: list[int]) -> list[array[int]]:
    return by_group([prints], {BUCKET, OTHER})


def test_prints_are_kept_by_group_for_the_buckets_asked_only() -> None:
    groups = by_group([[printed(1), printed(2, 77)], [printed(3, OTHER)]], {BUCKET, OTHER})
    assert len(groups) == GROUPS
    assert (list(groups[0]), list(groups[5])) == ([printed(1)], [printed(3, OTHER)])
    assert all(not g for n, g in enumerate(groups) if n not in (0, 5))


def test_a_row_matching_an_acknowledged_print_once_is_left_out() -> None:
    segment = grouped([printed(1), printed(2), printed(3, OTHER), printed(10)])
    acked = grouped([printed(1), printed(2), printed(3, OTHER), printed(4)])
    matched = match(segment, acked)
    assert matched.matched == 3
    assert matched.staged == {printed(10)}  # new or changed: matches nothing
    assert list(matched.unmatched) == [printed(4)]  # changed or left: the scope
    assert matched.unmatched_rows == 1


def test_a_print_found_twice_is_staged_and_its_contact_scoped() -> None:
    segment = grouped([printed(1), printed(2), printed(1)])
    acked = grouped([printed(1), printed(2)])
    matched = match(segment, acked)
    assert (matched.matched, matched.staged, list(matched.unmatched)) == (
        1,
        frozenset({printed(1)}),
        [printed(1)],
    )


def test_two_acknowledged_contacts_under_one_print_are_never_matched() -> None:
    # Two emails with the same 64-bit print: which one a row is cannot be told.
    segment = grouped([printed(1), printed(2)])
    acked = grouped([printed(1), printed(1), printed(2)])
    matched = match(segment, acked)
    assert (matched.matched, matched.staged, list(matched.unmatched)) == (
        1,
        frozenset({printed(1)}),
        [printed(1)],
    )
    assert matched.unmatched_rows == 2  # both contacts of that print


def test_nothing_in_the_buckets_matches_nothing() -> None:
    empty = [array(UNSIGNED) for _ in range(GROUPS)]
    matched = match(empty, grouped([printed(1)]))
    assert (matched.matched, matched.staged, list(matched.unmatched)) == (
        0,
        frozenset(),
        [printed(1)],
    )
