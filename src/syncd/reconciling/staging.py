"""Sources → contacts → the ledger's snapshot, in a worker thread, memory flat."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from syncd.contacts import ContactBuilder
from syncd.destinations import Spec
from syncd.ledger import LedgerSession, Rejection
from syncd.planning import profile_limit_exceeded
from syncd.sources import BadRow, open_segment

STAGE_CHUNK = 10_000
KEEP_REJECTIONS = 10_000


@dataclass
class Staged:
    profiles: int = 0
    rows: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def reject(self, segment: str, row: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < KEEP_REJECTIONS:
            self.rejections.append(Rejection(segment, row, reason))


def stage_segments(
    session: LedgerSession, spec: Spec, builder: ContactBuilder, *, base_dir: Path
) -> Staged:
    """Fill the snapshot with this run's desired contacts; the first segment wins a duplicate.

    Raises GuardTripped as soon as the distinct profiles exceed maxProfiles,
    before anything is sent anywhere.
    """
    staged = Staged()
    session.reset_snapshot()
    limit = spec.limits.max_profiles
    chunk: list[tuple[str, int, bytes, int, int]] = []

    def flush() -> None:
        staged.profiles += session.stage(chunk)
        chunk.clear()
        exceeded = profile_limit_exceeded(staged.profiles, limit)
        if exceeded:
            raise exceeded

    for index, segment in enumerate(spec.segments):
        source = open_segment(segment, base_dir=base_dir)
        for number, values in source.rows(builder.columns):
            staged.rows += 1
            if isinstance(values, BadRow):
                staged.reject(segment.name, number, values.reason)
                continue
            built = builder.build(values)
            if isinstance(built, str):
                staged.reject(segment.name, number, built)
                continue
            chunk.append((built.email, built.fingerprint, built.payload, index, number))
            if len(chunk) >= STAGE_CHUNK:
                flush()
    flush()
    return staged
