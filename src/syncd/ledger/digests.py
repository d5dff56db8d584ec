"""The acknowledged state summed by bucket, and a snapshot staged only where it differs.

A run that reads file sources sums each row's source fingerprint into one of 65,536
buckets (its low 16 bits: `reconciling.staging`); the ledger sums the acknowledged raw
fingerprints the same way here, in SQL. Where a bucket's count and sum agree, the segment
holds exactly the acknowledged rows of that bucket. In the buckets that differ, the
acknowledged prints (`acked_raws_within`) are matched with the segment's one by one
(`reconciling.matching`): only the rows that match nothing are staged, and the snapshot
is *scoped* (`scope_snapshot`) to the acknowledged contacts that no row matched, listed
by email in `{snapshot}_scope`. Every other acknowledged row counts as present, known and
not stale, without being copied (copying them cost about a second a million rows,
minutes at 10M on PostgreSQL). The queries about absent contacts (leavers, pending
removals) then start from the scope's contacts (`snapshot_sql`); the rest of the diff
(stale rows, counts, plans) reads the snapshot as it reads a fully staged one.
"""

from __future__ import annotations

import dataclasses
import functools
from array import array
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from syncd.ledger.core import SessionCore, Tx
from syncd.ledger.statements import Statements

BUCKET_BITS = 16
BUCKETS = 1 << BUCKET_BITS
BUCKET_MASK = BUCKETS - 1
"""A print's bucket: its low bits (`print & BUCKET_MASK`), in Python as in SQL."""
GROUP_SHIFT = 12
"""Buckets go by groups of 4,096 (16 groups) where a whole list of them would be large."""
GROUPS = BUCKETS >> GROUP_SHIFT
UNSIGNED = "Q"
"""The array type of prints outside the ledger, which stores them signed (`q`)."""
COUNTED = 1 << 100
"""A row's count in its bucket's total: above any sum of 64-bit fingerprints (2^36 rows)."""


@dataclass(frozen=True)
class DigestSql(Statements):
    # Sixteen rows of text, 4,096 buckets each: fetching 65,536 rows one by one takes the
    # GIL back 65,536 times from the thread reading the files meanwhile, and JSON would
    # build 65,536 lists at once (tens of MB for a moment). By source fingerprint for runs, by
    # payload fingerprint for an audit's quick way (`reconciling.auditing.digests`).
    acked_raw_buckets: str = ""
    acked_print_buckets: str = ""
    # The scope: the acknowledged prints no row matched, and the contacts those are (the
    # queries about absent contacts start from these). The buckets that differ are a
    # parameter, one byte a bucket (`bucket_mask`), tested on each row (`in_buckets`).
    create_prints: str = "CREATE TEMP TABLE IF NOT EXISTS snapshot_prints (raw BIGINT PRIMARY KEY)"
    create_scope: str = "CREATE TEMP TABLE IF NOT EXISTS snapshot_scope (email TEXT PRIMARY KEY)"
    clear_prints: str = "DELETE FROM {snapshot}_prints"
    clear_scope: str = "DELETE FROM {snapshot}_scope"
    add_print: str = "INSERT INTO {snapshot}_prints (raw) VALUES (?)"
    acked_raws_within: str = ""
    # The contacts of the unmatched prints: first those staged again (a changed row knows
    # the print it was acknowledged with), then, if some are left (leavers), from `acked`.
    scope_from_staged: str = (
        "INSERT INTO {snapshot}_scope (email) SELECT email FROM {snapshot}"
        " WHERE known AND acked_raw IN (SELECT raw FROM {snapshot}_prints)"
    )
    scope_from_prints: str = ""
    scope_from_buckets: str = ""
    # A staged email acknowledged outside the scope: a row left out (its bucket equal, or
    # its print matched) holds it too, so the segment holds it twice (the first row may be
    # the one left out). The caller stages everything then.
    conflicts: str = (
        "SELECT count(*) FROM {snapshot} s"
        " WHERE s.known AND s.email NOT IN (SELECT email FROM {snapshot}_scope)"
    )


def _bucket_totals(column: str, param: str) -> str:
    """The acknowledged rows' count and sums by bucket of `column`, as 16 lines of text
    (4,096 buckets each: one 3 MB line for them all cost 7 MB more at its peak), each
    after the lowest and highest binding of its rows (`lo,hi|`: whether every row is
    under one binding, known without another pass over the rows)."""
    # PostgreSQL's name for group_concat; its || needs one side to be text.
    concat = "group_concat(bucket ||" if param == "?" else "string_agg(bucket::text ||"
    return (
        f"SELECT min(lo) || ',' || max(hi) || '|' || {concat} ',' || n || ',' || low"
        f" || ',' || high, ' ') FROM (SELECT {column} & {BUCKET_MASK} AS bucket, count(*) AS n,"
        f" sum({column} & 4294967295) AS low, sum(({column} >> 32) & 4294967295) AS high,"
        f" min(binding) AS lo, max(binding) AS hi FROM acked WHERE destination = {param}"
        f" GROUP BY 1) AS b GROUP BY bucket >> {GROUP_SHIFT}"
    )


def bucket_mask(buckets: Iterable[int]) -> bytes:
    """One byte a bucket, 1 for each of `buckets`: the buckets that differ, as Python
    (`mask[print & BUCKET_MASK]`) and SQL (`in_buckets`) test them."""
    flags = bytearray(BUCKETS)
    for bucket in buckets:
        flags[bucket] = 1
    return bytes(flags)


def in_buckets(column: str, param: str) -> str:
    """Whether `column`'s bucket is flagged in the `bucket_mask` passed as a parameter: a
    byte read per row, where `IN (SELECT bucket ...)` searched a table for each (half the
    time of the query, measured on a million acknowledged rows)."""
    if param == "?":
        return f"substr(?, ({column} & {BUCKET_MASK}) + 1, 1) = x'01'"
    return f"get_byte({param}::bytea, ({column} & {BUCKET_MASK})::int) = 1"


def _acked_raws_within(param: str) -> str:
    """The acknowledged source prints of the buckets that differ, as a row of text for each
    group of buckets (`GROUP_SHIFT`) holding any: a sort of those rows by group cost less
    than sixteen filtered aggregates, each tested on every row."""
    concat = "group_concat(raw, ' ')" if param == "?" else "string_agg(raw::text, ' ')"
    return (
        f"SELECT (raw & {BUCKET_MASK}) >> {GROUP_SHIFT} AS grp, {concat} FROM acked"
        f" WHERE destination = {param} AND {in_buckets('raw', param)} GROUP BY grp"
    )


def _scope_from_acked(param: str, *, prints: bool) -> str:
    """The scope's contacts read from `acked`: those of the unmatched prints (`prints`),
    else every contact of the buckets that differ."""
    matched = " AND raw IN (SELECT raw FROM {snapshot}_prints)" if prints else ""
    conflict = " ON CONFLICT (email) DO NOTHING" if prints else ""
    return (
        "INSERT INTO {snapshot}_scope (email) SELECT email FROM acked"
        f" WHERE destination = {param} AND {in_buckets('raw', param)}{matched}{conflict}"
    )


@functools.cache
def digest_sql(param: str, snapshot: str) -> DigestSql:
    return dataclasses.replace(
        DigestSql(param=param, snapshot=snapshot),
        acked_raw_buckets=_bucket_totals("raw", param),
        acked_print_buckets=_bucket_totals("fingerprint", param),
        acked_raws_within=_acked_raws_within(param),
        scope_from_prints=_scope_from_acked(param, prints=True),
        scope_from_buckets=_scope_from_acked(param, prints=False),
    )


class BucketTotals:
    """The ledger's totals by bucket, as three arrays (count, and the sums of the two
    32-bit halves): 1.5 MB for 65,536 buckets, where Python integers would take several."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._count, self._low, self._high = (array("q", bytes(8 * BUCKETS)) for _ in range(3))
        self._bindings: set[int] = set()
        count, low, high = self._count, self._low, self._high
        for text in texts:
            bindings, _, buckets = text.partition("|")
            self._bindings.update(map(int, bindings.split(",")))
            # "bucket,count,low,high bucket,..." as one list of integers, four by four
            # (a third of the time a regular expression took over 65,536 buckets).
            values = list(map(int, buckets.replace(" ", ",").split(",")))
            for bucket, n, lo, hi in zip(*(values[i::4] for i in range(4)), strict=True):
                count[bucket], low[bucket], high[bucket] = n, lo, hi

    def digest(self, binding: int) -> tuple[int, int, int, int]:
        """The acknowledged state as one digest: the count, the sums of the two 32-bit
        halves of the source prints (order-independent, and they cannot overflow), and
        whether any row is under another binding than `binding` (1) or none is (0)."""
        other = any(bound != binding for bound in self._bindings)
        return sum(self._count), sum(self._low), sum(self._high), int(other)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """(bucket, total) of every bucket holding acknowledged rows."""
        count, low, high = self._count, self._low, self._high
        for bucket in range(BUCKETS):
            if count[bucket]:
                yield bucket, count[bucket] * COUNTED + low[bucket] + (high[bucket] << 32)

    def rows(self, outside: Collection[int] = ()) -> int:
        """The acknowledged rows, or those of every bucket but `outside`."""
        return sum(self._count) - sum(self._count[bucket] for bucket in outside)

    def differing(self, totals: Sequence[int]) -> list[int]:
        """The buckets whose `totals` (summed the same way, one per bucket) are not these."""
        count, low, high = self._count, self._low, self._high
        return [
            bucket
            for bucket, total in enumerate(totals)
            if total != count[bucket] * COUNTED + low[bucket] + (high[bucket] << 32)
        ]


def _texts(rows: list[tuple[Any, ...]]) -> Iterator[str]:
    """Each row's text, dropped from `rows` as it is read."""
    while rows:
        text = rows.pop()[0]
        if text:
            yield text


class DigestState(SessionCore):
    @property
    def _digest_sql(self) -> DigestSql:
        return digest_sql(self.sql.param, self.sql.snapshot)

    def acked_raw_buckets(self) -> BucketTotals:
        """Per bucket (of a source fingerprint's low 16 bits), the acknowledged rows' count
        times `COUNTED` plus the sum of their unsigned source fingerprints."""
        return BucketTotals(
            _texts(self._rows(self._digest_sql.acked_raw_buckets, (self.destination,)))
        )

    def acked_print_buckets(self) -> BucketTotals:
        """The same, by payload fingerprint (an audit compares what SendGrid shows)."""
        return BucketTotals(
            _texts(self._rows(self._digest_sql.acked_print_buckets, (self.destination,)))
        )

    def declare_differing(self, buckets: Collection[int]) -> None:
        """The buckets whose rows differ: `acked_raws_within` and `scope_snapshot` look there."""
        sql = self._digest_sql
        with self._scratch() as tx:
            for create in (sql.create_prints, sql.create_scope):
                tx.run(create, ())
        self._differing = bucket_mask(buckets)

    def acked_raws_within(self) -> list[array[int]]:
        """The acknowledged source prints (unsigned) in the declared buckets, by group of
        buckets (`GROUP_SHIFT`): arrays, 8 bytes a print."""
        params = (self.destination, self._differing)
        rows = self._rows(self._digest_sql.acked_raws_within, params)
        groups = [array(UNSIGNED) for _ in range(GROUPS)]
        while rows:
            group, text = rows.pop()  # each text dropped once read
            groups[group] = array(UNSIGNED, array("q", map(int, text.split())).tobytes())
        return groups

    def declare_unmatched(self, unmatched: array[int]) -> None:
        """The acknowledged prints (unsigned) no row matched, for `scope_leavers`."""
        with self._scratch() as tx:
            tx.run(self._digest_sql.clear_scope, ())
            self._fill_prints(tx, unmatched)

    def scope_leavers(self, unmatched: array[int]) -> None:
        """The scope of `scope_snapshot(..., scoped=True)`, built before anything is staged
        when some contacts left (staged rows cannot name them): every acknowledged contact
        of the `unmatched` prints (`declare_unmatched`), by a pass over `acked`."""
        with self._scratch() as tx:
            self._scope_from_acked(tx, unmatched)

    def scope_snapshot(
        self,
        outside: int,
        unmatched: array[int] | None = None,
        contacts: int = 0,
        *,
        scoped: bool = False,
    ) -> int | None:
        """Declare the snapshot staged only for the declared buckets: for the rows there
        whose print matched no acknowledged one, when `unmatched` lists the acknowledged
        prints (unsigned) that no row matched (held by `contacts` acknowledged contacts),
        else for every row of those buckets; `scoped`: `scope_leavers` found the scope's
        contacts already. The
        `outside` acknowledged rows left out (every other bucket's, and the matched ones:
        the caller counted them) are in the segment as they are (known, not stale),
        without a copy. The profiles, or None (the snapshot left as it is) when a staged
        email is acknowledged outside the scope: the segment holds it twice, stage
        everything then."""
        sql = self._digest_sql
        with self._scratch() as tx:
            if unmatched is None:
                tx.run(sql.clear_scope, ())
                tx.run(sql.scope_from_buckets, (self.destination, self._differing))
            elif not scoped:
                tx.run(sql.clear_scope, ())
                self._fill_prints(tx, unmatched)
                # Only leavers need a pass over `acked`: without any, every contact of
                # the unmatched prints was staged again (a row changed).
                if tx.run(sql.scope_from_staged, ()) < contacts:
                    self._scope_from_acked(tx, unmatched)
            if tx.rows(sql.conflicts, ())[0][0]:
                return None
        self._outside = outside
        self._scoped_acked = None if unmatched is None else outside + contacts
        return self._snapshot_counts()[0]

    def _fill_prints(self, tx: Tx, unmatched: array[int]) -> None:
        tx.run(self._digest_sql.clear_prints, ())
        signed = array("q", unmatched.tobytes())
        tx.many(self._digest_sql.add_print, [(raw,) for raw in signed])

    def _scope_from_acked(self, tx: Tx, unmatched: array[int]) -> None:
        mask = bucket_mask(raw & BUCKET_MASK for raw in unmatched)
        tx.run(self._digest_sql.scope_from_prints, (self.destination, mask))

    # -- SqlSession's ----------------------------------------------------------------------
    def _scratch(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    def _snapshot_counts(self) -> tuple[int, int, int, int]:
        raise NotImplementedError
