"""Staging only the rows that differ from the acknowledged state.

After a verify read found that the segment's sums differ from the acknowledged ones in
some buckets, the prints of those buckets' rows are matched with the acknowledged prints
of the same buckets (`matching`): only the rows that match nothing are staged, read back
from the verify read's spill when it kept them, picked from the lines of files it
scanned (by the prints the scan kept), else read from the source again (then every row
of those buckets is staged, its prints unknown before it is read). The snapshot is then
scoped to the acknowledged contacts no row matched (`LedgerSession.scope_snapshot`):
every other acknowledged row counts as present as it is. When some of those contacts
left, the scope is read from `acked` while the rows are picked (`scope_leavers`). See
`reading` for when this is tried.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait

import orjson

from syncd.contacts import ContactBuilder
from syncd.ledger import BUCKET_MASK, BUCKETS, UNSIGNED, LedgerSession, bucket_mask
from syncd.reconciling.matching import FEW, FEW_BUCKETS, MATCH_LIMIT, Matched, found, match
from syncd.reconciling.scanning import scanned_prints, scanned_rows
from syncd.reconciling.spill import KeptPrints, Spill
from syncd.reconciling.staging import (
    STAGE_CHUNK,
    SegmentSources,
    Staged,
    check_limit,
    keyed_rows,
)
from syncd.sources.csv_scan import NotPlain, Picks

Row = tuple[str, int, bytes, int, int]


def stage_differing(
    session: LedgerSession,
    sources: SegmentSources,
    differing: list[int],
    outside: int,
    *,
    staged: Staged,
    acked_within: int = 0,
    spill: Spill | None = None,
    kept: KeptPrints | None = None,
    unchanged_files: Callable[[], bool] = lambda: False,
) -> Staged | None:
    """After a verify read (`staged` holds its counts): the snapshot staged from the rows
    of the `differing` buckets that match no acknowledged row, scoped to the acknowledged
    contacts no row matched. `outside` acknowledged rows are in the other buckets,
    `acked_within` in these. None, with nothing staged, when that cannot be exact: an
    email in the segment twice (once left out, once staged), or files read again that are
    no longer the bytes the verify read summed (`unchanged_files`): the buckets were found
    on those, and rows changed since elsewhere would be missed, or taken for leavers. Stage
    everything then. `spill`: the verify read's rows, when it kept them; `kept`: the
    prints of its lines, when it scanned the files."""
    session.reset_snapshot()
    only = set(differing)
    every = len(only) == BUCKETS
    spill = spill if spill is not None and spill.usable else None
    matched = None if every else _matched(session, only, acked_within, spill, kept)
    # Some contacts left when more acknowledged ones went unmatched than rows can name
    # (each staged print is one contact): the scope needs a pass over `acked` then, made
    # in another thread (SQL, without the GIL) while this one picks and reads the rows.
    leavers = matched is not None and matched.unmatched_rows > len(matched.staged)
    with ThreadPoolExecutor(1, thread_name_prefix="syncd-scope") as ledger:
        scoping = None
        if leavers and matched is not None:
            session.declare_unmatched(matched.unmatched)
            scoping = ledger.submit(session.scope_leavers, matched.unmatched)
        try:
            for chunk in _chunks(_rows(sources, staged, only, matched, spill, kept)):
                if scoping is not None:  # the last chunk comes even empty: always waited
                    scoping.result()  # the session is this thread's again, or its error
                session.stage(chunk)
                staged.restaged += len(chunk)
        except NotPlain:  # a file rewritten since it was scanned: its lines are not records
            if scoping is not None:
                wait([scoping])
            session.reset_snapshot()
            return None
    if spill is None and not unchanged_files():
        session.reset_snapshot()
        return None
    profiles: int | None = session.finalize_snapshot()
    if not every:
        left_out = outside + (matched.matched if matched else 0)
        profiles = (
            session.scope_snapshot(
                left_out, matched.unmatched, matched.unmatched_rows, scoped=leavers
            )
            if matched
            else session.scope_snapshot(left_out)
        )
    if profiles is None:
        session.reset_snapshot()
        return None
    staged.profiles = profiles
    check_limit(profiles, sources.spec.limits.max_profiles)
    return staged


def _matched(
    session: LedgerSession,
    only: set[int],
    acked_within: int,
    spill: Spill | None,
    kept: KeptPrints | None,
) -> Matched | None:
    """The prints of the differing buckets matched, when the rows' prints can be had
    without reading them (a usable spill, scanned files) and are not too many to hold."""
    session.declare_differing(only)
    if acked_within > MATCH_LIMIT or (spill is None and kept is None):
        return None
    # The ledger reads its side meanwhile (SQL, without the GIL).
    with ThreadPoolExecutor(1, thread_name_prefix="syncd-acked-prints") as ledger:
        acked = ledger.submit(session.acked_raws_within)
        if spill is not None:
            prints = spill.prints(only)
        else:
            assert kept is not None  # one of the two, checked above
            prints = scanned_prints(kept, only)
        return match(prints, acked.result())


def _rows(
    sources: SegmentSources,
    staged: Staged,
    only: set[int],
    matched: Matched | None,
    spill: Spill | None,
    kept: KeptPrints | None,
) -> Iterator[Row]:
    wanted = None if matched is None else matched.staged
    if spill is not None:
        names = [s.name for s in sources.spec.segments]
        return _spilled(spill.rows(only, wanted), sources.builder, staged, names)
    if kept is not None:  # scanned: nothing was checked, these rows are reported now
        return scanned_rows(sources, staged, _picks(only, wanted), kept)
    return keyed_rows(sources, staged, only)


def _picks(only: set[int], wanted: frozenset[int] | None) -> Picks:
    if wanted is not None and len(wanted) <= FEW:
        return lambda prints: _flagged(len(prints), found(_unsigned(prints), wanted))
    if wanted is not None:
        return lambda prints: map(wanted.__contains__, prints)
    if len(only) <= FEW_BUCKETS:
        return lambda prints: _flagged(len(prints), found(_unsigned(prints), only, buckets=True))
    flags = bucket_mask(only)
    return lambda prints: map(flags.__getitem__, map(BUCKET_MASK.__and__, prints))


def _flagged(count: int, indices: list[int]) -> bytearray:
    flags = bytearray(count)
    for index in indices:
        flags[index] = 1
    return flags


def _unsigned(prints: Sequence[int]) -> array[int]:
    return prints if isinstance(prints, array) else array(UNSIGNED, prints)


def _chunks(rows: Iterator[Row]) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= STAGE_CHUNK:
            yield chunk
            chunk = []
    yield chunk


def _spilled(
    spilled: Iterator[tuple[int, int, bytes, int]],
    builder: ContactBuilder,
    staged: Staged,
    names: list[str],
) -> Iterator[Row]:
    """`keyed_rows` of rows read back from the spill: the verify read left out the rows it
    reported or dropped, so only a refused address is reported here."""
    for segment, number, encoded, raw in spilled:
        keyed = builder.key(orjson.loads(encoded), raw)
        if isinstance(keyed, str):
            staged.reject(names[segment], number, keyed)
            continue
        yield keyed[0], keyed[1], keyed[2], segment, number
