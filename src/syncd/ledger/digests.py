"""The acknowledged state summed by bucket, and a snapshot staged only where it differs.

A run that reads file sources sums each row's source fingerprint into one of 65,536
buckets (its low 16 bits: `reconciling.staging`); the ledger sums the acknowledged raw
fingerprints the same way here, in SQL. Where a bucket's count and sum agree, the segment
holds exactly the acknowledged rows of that bucket; only the rows of the buckets that
differ are staged, and the snapshot is *scoped* to them (`scope_snapshot`): the acknowledged
rows of the other buckets count as present, known and not stale, without being copied
(copying them cost about a second a million rows, minutes at 10M on PostgreSQL). The
queries about absent contacts (leavers, pending removals) then look at the scope's buckets
only (`snapshot_sql`); the rest of the diff (stale rows, counts, plans) reads the snapshot
as it reads a fully staged one.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from array import array
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from syncd.ledger.core import SessionCore, Tx
from syncd.ledger.statements import Statements

BUCKET_BITS = 16
BUCKETS = 1 << BUCKET_BITS
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
    create_scope: str = (
        "CREATE TEMP TABLE IF NOT EXISTS snapshot_scope (bucket INTEGER PRIMARY KEY)"
    )
    clear_scope: str = "DELETE FROM {snapshot}_scope"
    add_scope: str = "INSERT INTO {snapshot}_scope (bucket) VALUES (?)"
    # A staged email acknowledged under a bucket that was not staged: the segment holds it
    # twice (the first row may be the unstaged one). The caller stages everything then.
    conflicts: str = (
        "SELECT count(*) FROM {snapshot}"
        " WHERE (acked_raw & 65535) NOT IN (SELECT bucket FROM {snapshot}_scope)"
    )


def _bucket_totals(column: str, param: str) -> str:
    """The acknowledged rows' count and sums by bucket of `column`, as 16 lines of text
    (4,096 buckets each: one 3 MB line for them all cost 7 MB more at its peak)."""
    # PostgreSQL's name for group_concat; its || needs one side to be text.
    concat = "group_concat(bucket ||" if param == "?" else "string_agg(bucket::text ||"
    return (
        f"SELECT {concat} ',' || n || ',' || low || ',' || high, ' ') FROM ("
        f"SELECT {column} & 65535 AS bucket, count(*) AS n, sum({column} & 4294967295) AS low,"
        f" sum(({column} >> 32) & 4294967295) AS high FROM acked WHERE destination = {param}"
        " GROUP BY 1) AS b GROUP BY bucket >> 12"
    )


@functools.cache
def digest_sql(param: str, snapshot: str) -> DigestSql:
    return dataclasses.replace(
        DigestSql(param=param, snapshot=snapshot),
        acked_raw_buckets=_bucket_totals("raw", param),
        acked_print_buckets=_bucket_totals("fingerprint", param),
    )


_BUCKET = re.compile(r"(\d+),(\d+),(\d+),(\d+)")


class BucketTotals:
    """The ledger's totals by bucket, as three arrays (count, and the sums of the two
    32-bit halves): 1.5 MB for 65,536 buckets, where Python integers would take several."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._count, self._low, self._high = (array("q", bytes(8 * BUCKETS)) for _ in range(3))
        for text in texts:
            for match in _BUCKET.finditer(text):
                bucket, count, low, high = map(int, match.groups())
                self._count[bucket], self._low[bucket], self._high[bucket] = count, low, high

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

    def scope_snapshot(self, staged_buckets: Collection[int], outside: int) -> int | None:
        """Declare a snapshot staged only for `staged_buckets`: the `outside` acknowledged
        rows of every other bucket are in the segment as they are (known, not stale),
        without a copy (the caller counted them from `acked_raw_buckets` of this run). The
        profiles, or None (the snapshot left as it is) when a staged email is acknowledged
        under an unstaged bucket: the segment holds it twice, stage everything then."""
        sql = self._digest_sql
        with self._scratch() as tx:
            tx.run(sql.create_scope, ())
            tx.run(sql.clear_scope, ())
            tx.many(sql.add_scope, [(bucket,) for bucket in staged_buckets])
            if tx.rows(sql.conflicts, ())[0][0]:
                return None
        self._outside = outside
        return self._snapshot_counts()[0]

    # -- SqlSession's ----------------------------------------------------------------------
    def _scratch(self) -> AbstractContextManager[Tx]:
        raise NotImplementedError

    def _snapshot_counts(self) -> tuple[int, int, int, int]:
        raise NotImplementedError
