"""Staging only the rows of the buckets that differ from the acknowledged state.

After a verify read found that the segment's sums differ from the acknowledged ones, only
the rows whose bucket (a source fingerprint's low 16 bits) differs are staged, read back
from the verify read's spill when it kept them, else from the source again; the snapshot
is then scoped to those buckets: the acknowledged rows of every other bucket count as
present as they are (`LedgerSession.scope_snapshot`). See `reading` for when this is tried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import orjson

from syncd.contacts import ContactBuilder
from syncd.ledger import LedgerSession
from syncd.reconciling.scanning import scanned_rows
from syncd.reconciling.spill import Spill
from syncd.reconciling.staging import STAGE_CHUNK, SegmentSources, Staged, check_limit, keyed_rows
from syncd.sources.csv_scan import NotPlain


def stage_differing(
    session: LedgerSession,
    sources: SegmentSources,
    differing: list[int],
    outside: int,
    *,
    staged: Staged,
    spill: Spill | None = None,
    scanned: bool = False,
    unchanged_files: Callable[[], bool] = lambda: False,
) -> Staged | None:
    """After a verify read (`staged` holds its counts): the snapshot staged from the rows
    of the `differing` buckets only, scoped to them: the `outside` acknowledged rows of the
    others count as present (`LedgerSession.scope_snapshot`). None, with nothing staged,
    when that cannot be exact: an email in the segment twice across buckets, or files read
    again (no spill) that are no longer the bytes the verify read summed
    (`unchanged_files`): the buckets were found on those, and rows changed since in other
    buckets would be missed, or taken for leavers. Stage everything then."""
    session.reset_snapshot()
    only = set(differing)
    chunk: list[tuple[str, int, bytes, int, int]] = []
    spilled = spill is not None and spill.usable
    rows: Iterator[tuple[str, int, bytes, int, int]]
    if spill is not None and spilled:
        names = [s.name for s in sources.spec.segments]
        rows = _spilled(spill, sources.builder, staged, only, names)
    elif scanned:  # the verify read checked nothing: these rows are reported now
        rows = scanned_rows(sources, staged, only)
    else:
        rows = keyed_rows(sources, staged, only)
    try:
        for row in rows:
            chunk.append(row)
            if len(chunk) >= STAGE_CHUNK:
                session.stage(chunk)
                chunk.clear()
    except NotPlain:  # a file rewritten since it was scanned: its lines are not records
        session.reset_snapshot()
        return None
    session.stage(chunk)
    if not spilled and not unchanged_files():
        session.reset_snapshot()
        return None
    session.finalize_snapshot()
    profiles = session.scope_snapshot(only, outside)
    if profiles is None:
        session.reset_snapshot()
        return None
    staged.profiles = profiles
    check_limit(profiles, sources.spec.limits.max_profiles)
    return staged


def _spilled(
    spill: Spill, builder: ContactBuilder, staged: Staged, only: set[int], names: list[str]
) -> Iterator[tuple[str, int, bytes, int, int]]:
    """`keyed_rows(..., only)` from the spill: the verify read left out the rows it
    reported or dropped, so only a refused address is reported here."""
    for segment, number, encoded, raw in spill.rows(only):
        keyed = builder.key(orjson.loads(encoded), raw)
        if isinstance(keyed, str):
            staged.reject(names[segment], number, keyed)
            continue
        yield keyed[0], keyed[1], keyed[2], segment, number
