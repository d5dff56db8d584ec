"""Reading a destination's segments, the cheapest way that is still exact.

Four ways, tried in order:

1. **Known in sync.** File sources whose bytes, definition and binding are those SendGrid
   was last known to equal (`in_sync` in the ledger, recorded only after a clean run):
   nothing is parsed at all.
2. **Verified.** A destination in sync before (no batch open, nothing waiting): rows are
   only keyed and their fingerprints summed, in all and per bucket (a fingerprint's low
   16 bits); equal to the acknowledged state's sums, nothing changed. Files are verified
   whenever they are not known, plain CSV files from their bytes (`scanning`: no row
   parsed); a warehouse (SQL sources) when its rows are likely to fit the spill, for it
   is read once: its rows are spilled as they are summed.
3. **Staged where they differ.** Otherwise, in the buckets whose sums differ, the rows'
   prints are matched with the acknowledged ones and only the rows that match nothing
   are staged, picked from scanned files' lines or read back from the spill (other files
   that changed since the record, and warehouses, spill their rows); files read again
   stage every row of those buckets. The snapshot is scoped to the acknowledged contacts
   no row matched (`differing.stage_differing`). 10,000 changed rows of a million stage
   about 10,000 rows instead of a million.
4. **Staged.** Every row goes to the ledger's snapshot and the stale ones are built: a
   first export, work left open, a warehouse too large to spill, rows acknowledged under
   another binding, an email found in two buckets, or files changed between two reads.
   More than half the buckets differing stages every row too, from the spill when there
   is one (a source is not read a second time).

Everything before the preflight is local: a segment over maxProfiles fails before any
request. A failed check costs a second read of local files; a warehouse is read a second
time only when its spill overflowed (its rows were larger than guessed).

Rows whose address was forgotten (`syncd forget`) are dropped on every way and counted;
the in-sync record keeps their count. Any change to what is forgotten clears the record.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from syncd.contacts import NOTHING_FORGOTTEN, ContactBuilder
from syncd.ledger import BUCKETS, BucketTotals, LedgerSession
from syncd.loading import LoadedDestination
from syncd.logs import get_logger
from syncd.reconciling.differing import stage_differing
from syncd.reconciling.in_sync import InSyncRecord
from syncd.reconciling.progress import RunProgress
from syncd.reconciling.scanning import verify_read
from syncd.reconciling.spill import MAX_BYTES, Spill
from syncd.reconciling.staging import (
    Digest,
    SegmentSources,
    Staged,
    rereadable,
    stage_segments,
)
from syncd.reconciling.threads import in_thread
from syncd.shapes import ReadPath
from syncd.sources import Stopping, never

log = get_logger("syncd.reading")
SPILLED_ROW_BYTES = 256
"""A generous guess of a spilled row's size, to tell whether a warehouse's rows would fit."""
MAX_DIFFERING = BUCKETS // 2
"""Past half the buckets, staging only those costs about as much as staging everything."""


@dataclass(frozen=True)
class SegmentRead:
    """What a run read: its segments' counts and rows, how, and whether SendGrid already
    equals them (then nothing needs staging, diffing or sending)."""

    staged: Staged
    how: ReadPath | None
    in_sync: bool
    one_binding: bool = False
    """Every acknowledged row is under this run's binding (the verify read's totals said
    so): none needs rebuilding for another list or other field ids."""


class SegmentReader:
    def __init__(
        self,
        session: LedgerSession,
        loaded: LoadedDestination,
        builder: ContactBuilder,
        *,
        stopping: Stopping = never,
        live: RunProgress | None = None,
    ) -> None:
        self.session = session
        self.live = live
        self.stopping = stopping  # readers end a read soon after it turns true
        self.loaded = loaded
        self.spec = loaded.definition.spec
        self.builder = builder
        self.base_dir = loaded.path.parent
        self._prints: str | None = None
        self._known: InSyncRecord | None = None
        self._verified: tuple[Digest, BucketTotals] | None = None
        """A verify read's digest, and the ledger's totals summed beside it."""
        self._one_binding = False
        self._spill: Spill | None = None
        self.staged = Staged()
        self.how: ReadPath | None = None
        self.forgotten = NOTHING_FORGOTTEN

    async def read(self) -> Staged:
        """Everything that needs no request: the in-sync record, or a read."""
        self.forgotten = await in_thread(self.session.forgotten)
        if rereadable(self.spec):
            self._prints = await in_thread(self._sources.files_print)
            known = InSyncRecord.parse(await in_thread(self.session.in_sync))
            if known is not None and known.same_sources(self.loaded.digest, self._prints):
                self._known = known
                self.staged = Staged(
                    profiles=known.profiles, rows=known.rows, forgotten=known.forgotten
                )
                if self.live is not None:
                    self.live.reading(self.staged)
                self.how = "known"
                return self.staged
            # Files that changed are verified too: the read tells which buckets of rows
            # differ, and only those are staged (`unchanged`). Files that changed since
            # the record almost surely differ somewhere: their rows are kept for
            # staging, not parsed twice.
            if await in_thread(self._worth_verifying):
                changed = known is not None and known.files != self._prints
                return await self._verify(Spill() if changed else None)
        elif await in_thread(self._worth_verifying) and await in_thread(self._spill_fits):
            # A warehouse is read once, its rows spilled: a segment equal to the
            # acknowledged state stages nothing, one that differs stages what differs.
            return await self._verify(Spill())
        return await self._stage()

    async def _verify(self, spill: Spill | None) -> Staged:
        # The ledger sums its side by bucket meanwhile (SQL, without the GIL): the
        # buckets that differ are known as soon as the read ends.
        acked = asyncio.ensure_future(in_thread(self.session.acked_raw_buckets))
        self._spill = spill
        try:
            self.staged, digest = await in_thread(
                verify_read, self._sources, staged=self._followed(), spill=spill
            )
        finally:
            totals = await acked
        if digest.scanned:
            self._drop_spill()  # scanned files are picked from their lines again instead
        if digest.count <= self.spec.limits.max_profiles:
            self._verified = digest, totals
            self.how = "verified"
            return self.staged
        # over the limit, or duplicates: only staging counts distinct profiles
        self._drop_spill(digest)
        return await self._stage()

    def _spill_fits(self) -> bool:
        """Would the segment's rows likely fit the spill? (Else a warehouse would be read
        twice when they differ: once to verify, once to stage.)"""
        return self.session.acked_count() * SPILLED_ROW_BYTES <= MAX_BYTES

    def _worth_verifying(self) -> bool:
        """Not when work is left open: only the full path finishes it (resume)."""
        session = self.session
        return (
            session.holds_acked() and not session.open_batches() and not session.pending_erasures()
        )

    async def _stage(self) -> Staged:
        self._known = self._verified = None
        self.how = "staged"
        self.staged = await in_thread(
            stage_segments, self.session, self._sources, staged=self._followed()
        )
        return self.staged

    def _followed(self) -> Staged:
        """A fresh count of rows for this read, followed by whoever watches the run (and
        `staged` from now on: a read a guard stops still tells what it counted)."""
        staged = self.staged = Staged()
        if self.live is not None:
            self.live.reading(staged)
        return staged

    async def against(self, binding: int) -> SegmentRead:
        """The read, once the preflight bound the custom fields: the segments as counted,
        how they were read, and whether SendGrid already equals them."""
        in_sync = await self.unchanged(binding)
        return SegmentRead(self.staged, self.how, in_sync=in_sync, one_binding=self._one_binding)

    async def unchanged(self, binding: int) -> bool:
        """After the preflight: does SendGrid already equal the segments? If it cannot be
        told without staging, stage now (the snapshot is then ready for the diff)."""
        if self._known is not None:
            if self._known.binding == binding:
                return True
            self._known = None
            if not await in_thread(self._worth_verifying):
                await self._stage()
                return False
            await self._verify(None)
        if self._verified is not None:
            digest = self._verified[0]
            acked = self._verified[1].digest(binding)  # no reference kept: see below
            self._one_binding = not acked[3]
            try:
                if digest.equals(acked):
                    return True
                if acked[3] or not await self._stage_differing(digest):
                    await self._stage()  # rows under another binding are all rebuilt
            finally:
                self._drop_spill(digest)
        return False

    @property
    def _sources(self) -> SegmentSources:
        return SegmentSources(
            self.spec,
            self.builder,
            self.base_dir,
            self.loaded.allowlists,
            stopping=self.stopping,
            forgotten=self.forgotten,
        )

    def _files_unchanged(self) -> bool:
        """The source files are still the bytes they were when this read began."""
        now = self._sources.files_print()
        return now is not None and now == self._prints

    def release(self) -> None:
        """The temporary files this read still holds (a spill, a scan's prints), closed."""
        self._drop_spill(self._verified[0] if self._verified else None)

    def _drop_spill(self, digest: Digest | None = None) -> None:
        """The spill closed, and the prints a scan kept for `digest`."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        if digest is not None and digest.kept is not None:
            digest.kept.close()

    def _buckets_to_stage(
        self, digest: Digest, *, spilled: bool
    ) -> tuple[list[int], int, int] | None:
        """The buckets to stage, and the acknowledged rows outside and within them; None
        when too many differ to gain (every bucket, from the spill or the bytes, when the
        source would otherwise be read a second time)."""
        assert self._verified is not None  # the read that made `digest`
        acked = self._verified[1]
        differing = digest.differing(acked)
        if len(differing) > MAX_DIFFERING:
            if not spilled and not digest.scanned:
                return None
            # Every row, then, but from the spill or the bytes: not parsed a second time.
            differing = list(range(BUCKETS))
        outside = acked.rows(set(differing))
        return differing, outside, acked.rows() - outside

    async def _stage_differing(self, digest: Digest) -> bool:
        """Stage only the buckets of rows that differ from the acknowledged ones; False
        (nothing staged) when too many differ to gain, or it cannot be exact."""
        spilled = self._spill is not None and self._spill.usable
        if not spilled and not rereadable(self.spec):
            return False  # a warehouse is not read again for a part: staged whole
        found = self._buckets_to_stage(digest, spilled=spilled)
        self._verified = None  # the totals are not needed any more: memory stays flat
        if found is None:
            return False
        differing, outside, within = found
        staged = await in_thread(
            stage_differing,
            self.session,
            self._sources,
            differing,
            outside,
            staged=self.staged,
            acked_within=within,
            spill=self._spill,
            kept=digest.kept,
            unchanged_files=self._files_unchanged,
        )
        if staged is None:
            return False
        self.staged, self.how = staged, "staged"
        log.debug(
            "reading.differing",
            destination=self.loaded.definition.name,
            buckets=len(differing),
            rows=staged.restaged,
        )
        return True

    async def in_sync_record(self, binding: int) -> str | None:
        """What to record once SendGrid equals these sources: None when they are not
        files, or changed while being read."""
        if self._prints is None:
            return None
        if await in_thread(self._sources.files_print) != self._prints:
            return None
        s = self.staged
        record = InSyncRecord(
            self.loaded.digest, self._prints, binding, s.profiles, s.rows, s.forgotten
        )
        return record.encode()
