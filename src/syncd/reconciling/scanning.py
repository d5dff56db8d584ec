"""Verifying CSV segments from their bytes, and staging from them the rows that differ.

When every segment is a plain UTF-8 CSV file (`sources.csv_scan`: each line one record),
a verify read does not parse: each line's print is hashed from its bytes and summed into
its bucket, as `staging.verify_segments` sums the prints of the rows it parses. Those are
the same prints (`CsvFile.printed_rows`), so the sums compare with the acknowledged ones
the same way. Nothing is checked while scanning: a row that would be refused (no email, a
bad address, too few columns), an address forgotten, a second row of an address, all have
prints nothing acknowledged has, so their buckets differ, and `scanned_rows` reads and
reports them when those buckets are staged, as a verify read would have. The scan gives
way (None) to the csv module for any file that is not plain.
"""

from __future__ import annotations

from array import array
from collections.abc import Collection, Iterator

from syncd.contacts import NO_EMAIL
from syncd.ledger import BUCKET_MASK, BUCKETS, COUNTED
from syncd.reconciling.matching import by_group
from syncd.reconciling.segment_checks import no_address_anywhere
from syncd.reconciling.spill import KeptPrints, Spill
from syncd.reconciling.staging import (
    Digest,
    SegmentSources,
    Staged,
    rereadable,
    verify_segments,
)
from syncd.sources import BadRow
from syncd.sources.csv_scan import NotPlain, Picks, Scan, open_scan
from syncd.sources.csvfile import CsvFile


def _scans(sources: SegmentSources) -> list[Scan] | None:
    scans = []
    builder = sources.builder
    for _, _, source in sources.opened():
        if not isinstance(source, CsvFile):
            return None
        try:
            scans.append(open_scan(source, builder.columns, builder.seed))
        except NotPlain:
            return None
    return scans


def scan_segments(sources: SegmentSources, *, staged: Staged) -> Digest | None:
    """`verify_segments`' digest from the files' bytes (`staged` counts the rows as they
    are scanned), or None when a segment is not a plain CSV file."""
    scans = _scans(sources)
    if scans is None:
        return None
    buckets = [0] * BUCKETS
    rows = 0
    kept = KeptPrints()
    counted: dict[str, int] = {}
    try:
        for segment, scan in zip(sources.spec.segments, scans, strict=True):
            before = rows
            for prints in scan.prints(kept.new()):
                rows += len(prints)
                staged.rows = rows
                for printed in prints:
                    buckets[printed & BUCKET_MASK] += COUNTED + printed
            counted[segment.name] = rows - before
    except NotPlain:
        kept.close()
        staged.rows = 0
        return None
    except BaseException:  # a stop, a file changed while read: its spill files go too
        kept.close()
        raise
    digest = Digest.of(buckets, kept)
    staged.segment_rows = counted
    staged.profiles = digest.count  # an upper bound: rows to refuse and duplicates are in it
    return digest


def verify_read(
    sources: SegmentSources, *, staged: Staged, spill: Spill | None = None
) -> tuple[Staged, Digest]:
    """A verify read: plain CSV files scanned (`scan_segments`), anything else parsed
    (`verify_segments`, which fills `spill`; a scanned digest says it did not). Nothing is
    scanned while anything is forgotten: a scan cannot drop those rows, and a source still
    holding one would then never verify equal (the csv module's read drops them)."""
    if not sources.forgotten and rereadable(sources.spec):
        digest = scan_segments(sources, staged=staged)
        if digest is not None:
            return staged, digest
    return verify_segments(sources, staged=staged, spill=spill)


def scanned_prints(kept: KeptPrints, buckets: Collection[int]) -> list[array[int]]:
    """The prints of the rows in `buckets`, by group (`matching.by_group`), read back from
    what the scan `kept`. Blank lines' prints may be among them: they pick no row."""
    segments = range(len(kept.files))
    return by_group((prints for s in segments for prints in kept.chunks(s)), buckets)


def scanned_rows(
    sources: SegmentSources, staged: Staged, picks: Picks, kept: KeptPrints
) -> Iterator[tuple[str, int, bytes, int, int]]:
    """`keyed_rows` after `scan_segments`, of the rows whose prints `picks` flags, from
    the files' bytes; the scan checked no row, so each refused, forgotten or bad one is
    reported and counted here (all of them are in buckets that differ, and match nothing
    acknowledged). The lines' prints are read back from what the scan `kept`."""
    scans = _scans(sources)
    if scans is None:  # the files changed since the scan: the caller checks them again
        return
    builder, forgotten = sources.builder, sources.forgotten
    holds = forgotten.holds if forgotten else None
    counted = staged.segment_rows or {}
    for index, (segment, scan) in enumerate(zip(sources.spec.segments, scans, strict=True)):
        blank = 0
        for number, values, printed in scan.lines_in(picks, kept.files[index]):
            if isinstance(values, BadRow):
                staged.reject(segment.name, number, values.reason)
                continue
            row = values if type(values) is list else list(values)
            keyed = builder.key(row, printed)
            if isinstance(keyed, str):
                blank += keyed == NO_EMAIL
                staged.reject(segment.name, number, keyed)
                continue
            if holds is not None and holds(keyed[0]):
                staged.forgotten += 1
                continue
            yield keyed[0], keyed[1], keyed[2], index, number
        # Rows without an address match nothing acknowledged: all of them are picked here.
        no_address_anywhere(segment.name, counted.get(segment.name, 0), blank, builder)
