"""The ledger's batches as `syncd explain` shows them (`shapes.BatchRecord`): one open in
the outbox, or one that ended."""

from __future__ import annotations

from syncd.ledger import EndedBatch, InFlight
from syncd.shapes import BatchRecord, iso


def open_batch(flight: InFlight | None) -> BatchRecord | None:
    """A batch still in the outbox."""
    if flight is None:
        return None
    return BatchRecord(
        batch=flight.batch_id,
        run=flight.run_id,
        kind=flight.kind,
        job_id=flight.job_id,
        state=flight.state,
        submitted_at=iso(flight.submitted_at),
    )


def ended_batch(batch: EndedBatch | None) -> BatchRecord | None:
    """A batch that ended, with how."""
    if batch is None:
        return None
    return BatchRecord(
        batch=batch.batch_id,
        run=batch.run_id,
        kind=batch.kind,
        job_id=batch.job_id,
        state=batch.outcome,
        submitted_at=iso(batch.submitted_at),
        ended_at=iso(batch.ended_at),
    )
