"""Which rows of the buckets that differ really differ: their prints matched one by one.

A bucket differs when one of its rows changed, came or went; its other rows are still the
acknowledged ones, and there are many of them: a changed row's print moves to another
bucket, so 20,000 changes in a million rows touch a third of the 65,536 buckets. Their
prints tell them apart. A row whose source print is an acknowledged one, found once in the
segment, is that acknowledged contact unchanged (the print covers the email and every
mapped value as read), so it is left out of the snapshot like the rows of an equal bucket.
Only the rest is staged: rows whose print nothing acknowledged has (new, changed, refused,
or read from other bytes) and every row of a print found twice (a duplicate is staged to
be counted once and reported). The acknowledged prints no row matched are the snapshot's
scope: the contacts that changed or left.

The prints come by group of buckets (`ledger.GROUP_SHIFT`), 8 bytes each in arrays; the
sets are built one group at a time, so they stay a sixteenth of the buckets' rows.
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress

from syncd.ledger import BUCKET_BITS, BUCKET_MASK, GROUP_SHIFT, GROUPS, UNSIGNED, bucket_mask

MATCH_LIMIT = 1 << 20
"""Acknowledged rows in the differing buckets past which their prints are not matched
(16 MB of arrays for both sides): every row of those buckets is staged instead."""


@dataclass(frozen=True)
class Matched:
    staged: frozenset[int]
    """The segment's prints whose rows are staged."""
    unmatched: array[int]
    """The acknowledged prints no row matched: the snapshot's scope."""
    matched: int
    """Acknowledged rows matched by one row each: in the segment as they are."""
    unmatched_rows: int
    """Acknowledged rows holding the `unmatched` prints (more only for a print two hold)."""


FEW = 32
"""Values few enough to be found by searching the prints' bytes (`found`), one search a
value, rather than by testing every print: a print is tested in about 0.1 µs, a block's
bytes searched for one value in a few microseconds."""
FEW_BUCKETS = FEW if BUCKET_BITS % 8 == 0 else 0
"""The same for buckets, which can be searched for only as whole bytes of a print."""
_PRINT = array(UNSIGNED).itemsize
_LOW_AT = 0 if sys.byteorder == "little" else _PRINT - BUCKET_BITS // 8
"""Where a print's bucket (its low bits) lies among its bytes."""


def found(prints: array[int], values: Collection[int], *, buckets: bool = False) -> list[int]:
    """The indices, in order, of the `prints` equal to one of `values`, or with `buckets`,
    whose bucket is one of them: each value searched for in the prints' bytes (in C), a
    match counted where a print's own bytes hold it."""
    if buckets and not FEW_BUCKETS:
        raise ValueError("buckets that are not whole bytes cannot be searched for")
    data = prints.tobytes()
    size, at_byte = (BUCKET_BITS // 8, _LOW_AT) if buckets else (_PRINT, 0)
    indices = []
    for value in values:
        pattern = value.to_bytes(size, sys.byteorder)
        at = data.find(pattern)
        while at >= 0:
            if at % _PRINT == at_byte:
                indices.append(at // _PRINT)
            at = data.find(pattern, at + 1)
    indices.sort()
    return indices


def by_group(prints: Iterable[array[int]], buckets: Collection[int]) -> list[array[int]]:
    """The prints (chunks of them) whose bucket is among `buckets`, by group of buckets."""
    groups = [array(UNSIGNED) for _ in range(GROUPS)]
    if len(buckets) <= FEW_BUCKETS:  # one changed row makes two buckets differ
        for chunk in prints:
            for printed in map(chunk.__getitem__, found(chunk, buckets, buckets=True)):
                groups[(printed & BUCKET_MASK) >> GROUP_SHIFT].append(printed)
        return groups
    flags = bucket_mask(buckets)
    for chunk in prints:
        for printed in compress(chunk, map(flags.__getitem__, map(BUCKET_MASK.__and__, chunk))):
            groups[(printed & BUCKET_MASK) >> GROUP_SHIFT].append(printed)
    return groups


def match(segment: Sequence[array[int]], acked: Sequence[array[int]]) -> Matched:
    """Match the segment's prints of the differing buckets (`by_group`) with the
    acknowledged ones of the same buckets (`LedgerSession.acked_raws_within`)."""
    staged: set[int] = set()
    unmatched = array(UNSIGNED)
    matched = unmatched_rows = 0
    for rows, known in zip(segment, acked, strict=True):
        printed, acknowledged = set(rows), set(known)
        # Matched: a print both sides hold, once each side (a print found twice in the
        # segment is staged; one two contacts hold is a 64-bit collision: both unmatched).
        twice = _twice(rows) if len(printed) != len(rows) else set()
        if len(acknowledged) != len(known):
            twice |= _twice(known)
        new, gone = printed - acknowledged, acknowledged - printed
        if twice:
            new |= printed & twice
            gone |= acknowledged & twice
        same = len(printed) - len(new)
        matched += same
        unmatched_rows += len(known) - same  # each matched print is held once
        staged |= new
        unmatched.extend(gone)  # once each: the scope takes every contact
    return Matched(frozenset(staged), unmatched, matched, unmatched_rows)


def _twice(prints: array[int]) -> set[int]:
    return {printed for printed, count in Counter(prints).items() if count > 1}
