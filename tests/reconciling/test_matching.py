"""Matching the prints of the differing buckets with the acknowledged ones
(`reconciling.matching`): what is staged, what is left out, what may have left."""

from __future__ import annotations

import random
import sys
from array import array

import pytest

from syncd.ledger import BUCKET_MASK, GROUP_SHIFT, GROUPS, UNSIGNED
from syncd.reconciling import differing, matching
from syncd.reconciling.matching import by_group, found, match

BUCKET = 5  # group 0
OTHER = 5 << GROUP_SHIFT | 9  # group 5


def printed(n: int, bucket: int = BUCKET) -> int:
    return n << 16 | bucket


def grouped(prints: list[int]) -> list[array[int]]:
    return by_group([array(UNSIGNED, prints)], {BUCKET, OTHER})


def test_prints_are_kept_by_group_for_the_buckets_asked_only() -> None:
    chunks = [array(UNSIGNED, [printed(1), printed(2, 77)]), array(UNSIGNED, [printed(3, OTHER)])]
    groups = by_group(chunks, {BUCKET, OTHER})
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


def decoys(values: set[int], size: int) -> list[int]:
    """Prints holding each value's bytes everywhere but where a match counts: at every
    other offset within a print, and across two prints."""
    made = []
    for value in sorted(values):
        pattern = value.to_bytes(size, sys.byteorder)
        for shift in range(1, 9 - size):
            made.append(
                int.from_bytes(bytes(shift) + pattern + bytes(8 - size - shift), sys.byteorder)
            )
        half = size // 2 or 1  # the pattern split between the end of one print and the next
        made.append(int.from_bytes(bytes(8 - half) + pattern[:half], sys.byteorder))
        made.append(int.from_bytes(pattern[half:] + bytes(8 - size + half), sys.byteorder))
    return made


@pytest.mark.parametrize("seed", range(5))
def test_a_few_values_are_found_by_searching_as_testing_every_print_finds_them(seed: int) -> None:
    rng = random.Random(seed)
    wanted = {rng.getrandbits(64) for _ in range(rng.randrange(1, 6))}
    buckets = {rng.randrange(1 << 16) for _ in range(rng.randrange(1, 6))}
    prints = [rng.getrandbits(64) for _ in range(3_000)] + sorted(wanted)
    prints += [rng.getrandbits(48) << 16 | bucket for bucket in sorted(buckets)]
    rng.shuffle(prints)
    prints[1_000:1_000] = decoys(wanted, 8) + decoys(buckets, 2)  # in order: some span two
    chunk = array(UNSIGNED, prints)
    assert found(chunk, wanted) == [i for i, p in enumerate(prints) if p in wanted]
    in_buckets = [i for i, p in enumerate(prints) if p & BUCKET_MASK in buckets]
    assert found(chunk, buckets, buckets=True) == in_buckets
    assert len(in_buckets) >= len(buckets)


def test_by_group_finds_a_few_buckets_as_it_tests_many(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    buckets = {rng.randrange(1 << 16) for _ in range(6)}
    chunks = [
        array(UNSIGNED, [rng.getrandbits(64) for _ in range(2_000)] + decoys(buckets, 2))
        for _ in range(3)
    ]
    chunks.append(array(UNSIGNED, [rng.getrandbits(48) << 16 | b for b in sorted(buckets)]))
    searched = by_group(chunks, buckets)
    monkeypatch.setattr(matching, "FEW_BUCKETS", 0)
    tested = by_group(chunks, buckets)
    assert [list(g) for g in searched] == [list(g) for g in tested]
    assert sum(map(len, searched)) >= len(buckets)


@pytest.mark.parametrize("by_print", [True, False])
def test_the_lines_picked_by_search_are_those_picked_by_testing(
    monkeypatch: pytest.MonkeyPatch, by_print: bool
) -> None:
    rng = random.Random(7)
    prints = array(UNSIGNED, [rng.getrandbits(64) for _ in range(4_000)])
    wanted = frozenset(rng.sample(list(prints), 9)) if by_print else None
    only = {p & BUCKET_MASK for p in rng.sample(list(prints), 4)}
    searched = list(differing._picks(only, wanted)(prints))
    monkeypatch.setattr(differing, "FEW", 0)
    monkeypatch.setattr(differing, "FEW_BUCKETS", 0)
    tested = list(differing._picks(only, wanted)(prints))
    assert [bool(flag) for flag in searched] == [bool(flag) for flag in tested]
    assert sum(map(bool, tested)) >= (9 if by_print else 4)
