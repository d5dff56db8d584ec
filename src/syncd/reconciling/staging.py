"""Sources → the ledger's snapshot → built contacts, in a worker thread, memory flat.

Every row is keyed as read: its email, and a fingerprint of its source values (no
payload is built). Then one of two paths:

* **verify** (file sources, a destination already in sync): the rows are only counted
  and their fingerprints summed; when count and sums equal those of the acknowledged
  state, nothing changed and the run is done without writing a row anywhere. Otherwise
  the files are read again, this time staged. Re-reading a local file costs less than
  staging a segment that has not changed, the common case of a refresh.
* **stage**: rows are appended to the snapshot, sorted once (the first row of an email
  wins), and only the rows whose source values differ from those SendGrid acknowledged
  are built.

On both paths a row whose address was forgotten (`syncd forget`) is dropped as it is
read, and counted: it never reaches the snapshot, and the verify sums leave it out as the
acknowledged state does. With nothing forgotten the check costs one comparison a row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from syncd.allowlists import Allowlists
from syncd.contacts import NO_EMAIL, NOTHING_FORGOTTEN, ContactBuilder, Forgotten
from syncd.destinations import Segment, Spec
from syncd.ledger import BUCKET_MASK, BUCKETS, COUNTED, BucketTotals, LedgerSession, Rejection
from syncd.planning import profile_limit_exceeded
from syncd.reconciling.segment_checks import no_address_anywhere
from syncd.reconciling.spill import KeptPrints, Spill
from syncd.sources import (
    BadRow,
    RowSource,
    Stopping,
    files_print,
    never,
    open_segment,
    printed_rows,
)

STAGE_CHUNK = 10_000
BUILD_PAGE = 5_000
KEEP_REJECTIONS = 10_000


@dataclass
class Staged:
    profiles: int = 0
    rows: int = 0
    rejected: int = 0
    forgotten: int = 0
    """Rows dropped because their address was forgotten (`syncd forget`)."""
    built: int = 0
    restaged: int = 0
    """Rows staged after a verify read: those that matched no acknowledged row."""
    rejections: list[Rejection] = field(default_factory=list)
    segment_rows: dict[str, int] | None = None
    """Rows each segment had, once every segment was read whole this run (None: not, as
    when the files were known unchanged by their bytes)."""

    def reject(self, segment: str, row: int, reason: str, email: str = "") -> None:
        self.rejected += 1
        if len(self.rejections) < KEEP_REJECTIONS:
            self.rejections.append(Rejection(segment, row, reason, email))


@dataclass(frozen=True)
class Digest:
    """Count and sum of the keyed rows' source fingerprints (unsigned; order does not
    matter), in all and per bucket (a fingerprint's low 16 bits): each bucket's count
    sits above its sum (`COUNTED`)."""

    count: int
    total: int
    buckets: list[int]
    kept: KeptPrints | None = None
    """A scan's prints of every line (closed by whoever reads on), when `scanned`."""

    @classmethod
    def of(cls, buckets: list[int], kept: KeptPrints | None = None) -> Digest:
        """The digest of rows summed into `buckets` (`COUNTED` plus its print, a row)."""
        count = sum(summed // COUNTED for summed in buckets)
        return cls(count, sum(summed % COUNTED for summed in buckets), buckets, kept)

    @property
    def scanned(self) -> bool:
        """From the files' bytes (`scanning`): no row was checked, refused or dropped."""
        return self.kept is not None

    def equals(self, acked: tuple[int, int, int, int]) -> bool:
        """The same as the acknowledged state's (`BucketTotals.digest`), all under one
        binding."""
        count, low, high, other_binding = acked
        return (count, low + (high << 32), other_binding) == (self.count, self.total, 0)

    def differing(self, acked: BucketTotals) -> list[int]:
        """The buckets whose rows are not those acknowledged (`acked_raw_buckets`)."""
        return acked.differing(self.buckets)


@dataclass(frozen=True)
class SegmentSources:
    """A destination's segments as one read opens them: where their files are, what may be
    read, how rows are keyed, when to stop, and which addresses are forgotten."""

    spec: Spec
    builder: ContactBuilder
    base_dir: Path
    allowlists: Allowlists
    stopping: Stopping = never
    forgotten: Forgotten = NOTHING_FORGOTTEN

    def opened(self) -> Iterator[tuple[int, Segment, RowSource]]:
        """(index, segment, its reader), in the order a duplicate is decided."""
        for index, segment in enumerate(self.spec.segments):
            yield index, segment, self.open(segment)

    def open(self, segment: Segment) -> RowSource:
        return open_segment(
            segment, base_dir=self.base_dir, allowlists=self.allowlists, stopping=self.stopping
        )

    def files_print(self) -> str | None:
        """The files' bytes, hashed (`sources.files_print`); None unless all are files."""
        return files_print(self.spec.segments, base_dir=self.base_dir, allowlists=self.allowlists)


def rereadable(spec: Spec) -> bool:
    """Local files: cheap to read twice, unlike a warehouse query."""
    return all(s.source.csv or s.source.jsonl for s in spec.segments)


def keyed_rows(
    sources: SegmentSources, staged: Staged, only: set[int] | None = None
) -> Iterator[tuple[str, int, bytes, int, int]]:
    """(email, raw fingerprint, source values, segment, row) of every usable row, in read
    order; refused rows counted in `staged`, forgotten addresses dropped.

    With `only`, the rows of those buckets alone, after a verify read counted and reported
    every row (`verify_segments`): a row is then neither counted nor reported again,
    except for a refused address, which only keying finds."""
    builder, forgotten = sources.builder, sources.forgotten
    holds = forgotten.holds if forgotten else None
    raw_print = builder.raw_print
    counted: dict[str, int] = {}
    for index, segment, source in sources.opened():
        before, blank = staged.rows, 0
        for number, values, printed in printed_rows(source, builder.columns, builder.seed):
            if only is None:
                staged.rows += 1
            elif isinstance(values, BadRow) or not _within(
                raw_print(_listed(values), printed), only
            ):
                continue  # counted and reported by the verify read, or in a bucket left out
            if isinstance(values, BadRow):
                staged.reject(segment.name, number, values.reason)
                continue
            keyed = builder.key(_listed(values), printed)
            if isinstance(keyed, str):
                blank += keyed == NO_EMAIL
                staged.reject(segment.name, number, keyed)
                continue
            if holds is not None and holds(keyed[0]):
                if only is None:
                    staged.forgotten += 1
                continue
            yield keyed[0], keyed[1], keyed[2], index, number
        counted[segment.name] = staged.rows - before
        if only is None:
            no_address_anywhere(segment.name, counted[segment.name], blank, builder)
    if only is None:
        staged.segment_rows = counted


def _within(raw: int | None, buckets: set[int]) -> bool:
    """A row `raw_print` fingerprinted (not one without an email: the verify read reported
    it) whose bucket is among `buckets`."""
    return raw is not None and raw & BUCKET_MASK in buckets


def _listed(values: Sequence[Any]) -> list[Any]:
    return values if type(values) is list else list(values)


def verify_segments(
    sources: SegmentSources, *, staged: Staged | None = None, spill: Spill | None = None
) -> tuple[Staged, Digest]:
    """Read without staging: what `Digest` needs to tell "nothing changed". `staged`, when
    given, is filled as rows are read (someone may be following the count); `spill`, when
    given, keeps every summed row for `differing.stage_differing`."""
    staged = Staged() if staged is None else staged
    buckets = [0] * BUCKETS
    rows = 0
    builder = sources.builder
    raw_print, raw_encoded = builder.raw_print, builder.raw_encoded
    dropped = builder.forgotten_check(sources.forgotten)
    encoded: bytes | None = None
    counted: dict[str, int] = {}
    for index, segment, source in sources.opened():
        before, blank = rows, 0
        for number, values, printed in printed_rows(source, builder.columns, builder.seed):
            rows += 1
            if not rows & 0xFFF:  # a local counter is cheaper; share it now and then
                staged.rows = rows
            if isinstance(values, BadRow):
                staged.reject(segment.name, number, values.reason)
                continue
            row = values if type(values) is list else list(values)
            if spill is None:
                raw = raw_print(row, printed)
            else:
                keyed = raw_encoded(row, printed)
                raw, encoded = (None, None) if keyed is None else keyed
            if raw is None:
                blank += 1
                staged.reject(segment.name, number, NO_EMAIL)
                continue
            if dropped is not None and dropped(row):
                staged.forgotten += 1
                continue
            buckets[raw & BUCKET_MASK] += COUNTED + raw
            if spill is not None:
                spill.add(raw, index, number, encoded)
        counted[segment.name] = rows - before
        no_address_anywhere(segment.name, counted[segment.name], blank, builder)
    staged.rows = rows
    staged.segment_rows = counted
    if spill is not None:
        spill.finish()
    digest = Digest.of(buckets)
    staged.profiles = digest.count  # no duplicates when it matches the acknowledged state
    return staged, digest


def stage_segments(
    session: LedgerSession, sources: SegmentSources, *, staged: Staged | None = None
) -> Staged:
    """Fill the snapshot with this run's desired contacts; the first segment wins a duplicate.
    `staged`, when given, is filled as rows are read.

    Raises GuardTripped as soon as the distinct profiles exceed maxProfiles, before
    anything is sent anywhere; the readers raise SourceUnavailable soon after `stopping`
    turns true.
    """
    staged = Staged() if staged is None else staged
    session.reset_snapshot()
    limit = sources.spec.limits.max_profiles
    next_check = limit
    chunk: list[tuple[str, int, bytes, int, int]] = []
    for row in keyed_rows(sources, staged):
        chunk.append(row)
        if len(chunk) >= STAGE_CHUNK:
            session.stage(chunk)
            chunk.clear()
            # Duplicates make the row count an upper bound: count distinct emails only
            # once it passes the limit, and again each time it doubles.
            if staged.rows > next_check:
                staged.profiles = session.staged_distinct()
                check_limit(staged.profiles, limit)
                next_check *= 2
    session.stage(chunk)
    staged.profiles = session.finalize_snapshot()
    check_limit(staged.profiles, limit)
    return staged


def check_limit(profiles: int, limit: int) -> None:
    exceeded = profile_limit_exceeded(profiles, limit)
    if exceeded:
        raise exceeded


def build_stale(
    session: LedgerSession,
    builder: ContactBuilder,
    staged: Staged,
    *,
    binding: int,
    segment_names: list[str],
    remember: bool,
    rebind: bool = True,
) -> None:
    """Build the rows whose source values are not those SendGrid has.

    A row whose payload turns out equal (after a mapping change, say) is settled, and
    with `remember` its new source fingerprint is stored so later runs skip it. A row
    refused here keeps its acknowledged values when it has some (it is not removed from
    the list for a bad field), and is dropped otherwise; either way it is reported.
    """
    if rebind:  # unless every acknowledged row is known to be under `binding`
        session.mark_rebind(binding)
    after = ""
    while page := session.stale(after, BUILD_PAGE):
        after = page[-1].email
        built: list[tuple[int, bytes, str]] = []
        settled: list[str] = []
        dropped: list[str] = []
        refresh: list[tuple[int, str]] = []
        for row in page:
            contact = builder.build_encoded(row.values)
            if isinstance(contact, str):
                staged.reject(segment_names[row.segment], row.row, contact, row.email)
                (settled if row.known else dropped).append(row.email)
            elif (
                row.known
                and contact.fingerprint == row.acked_fingerprint
                and row.acked_binding == binding
            ):
                settled.append(row.email)
                refresh.append((row.raw, row.email))
            else:
                built.append((contact.fingerprint, contact.payload, row.email))
        staged.built += len(built)
        session.record_builds(built, settled, dropped, refresh if remember else [])
    session.release_staged()
