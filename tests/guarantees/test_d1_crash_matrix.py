"""D1: `syncd sync` killed by `os._exit` at every named failpoint, then run again until quiet.

Each cell starts from a synced list of 1,000 contacts, changes 600, adds 150 and removes
50 (one upsert batch of 750 contacts, about 85 KB, and one removal batch), and crashes
the process at one failpoint, on the upsert batch (first hit) or on the removal batch
(second hit). `mid-request-body` fires once the first chunk of a body aiohttp streams in
several chunks (256 KiB each) has gone out, so its cell sends a batch of 2,550 contacts
(about 290 KB): SendGrid receives a cut body and never creates the job.

Required (docs/guarantees.md, row D1): 0 lost in every cell; at most one batch re-sent per
crash; no new request for a batch whose job id was already recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.guarantees.harness import FAILPOINT_EXIT, Scene, open_batches, record_figure


@dataclass(frozen=True)
class Cell:
    failpoint: str
    nth: int
    kind: str  # the batch the crash hits: upsert or remove
    outbox: str  # what the ledger must hold after the crash: prepared, submitted or nothing
    redundant: int  # batches re-sent redundantly: 1 only when the crash hid an applied job
    changes: int = 600

    @property
    def id(self) -> str:
        return f"{self.failpoint}@{self.kind}"


CELLS = [
    Cell("after-outbox-commit", 1, "upsert", "prepared", 0),
    Cell("before-upsert-request", 1, "upsert", "prepared", 0),
    Cell("mid-request-body", 1, "upsert", "prepared", 0, changes=2400),
    Cell("after-202-before-job-commit", 1, "upsert", "prepared", 1),
    Cell("after-job-commit", 1, "upsert", "submitted", 0),
    Cell("while-polling", 1, "upsert", "submitted", 0),
    Cell("after-completed-before-ack", 1, "upsert", "submitted", 0),
    Cell("after-ack-commit", 1, "upsert", "nothing", 0),
    Cell("after-outbox-commit", 2, "remove", "prepared", 0),
    Cell("after-202-before-job-commit", 2, "remove", "prepared", 1),
    Cell("after-job-commit", 2, "remove", "submitted", 0),
    Cell("while-polling", 2, "remove", "submitted", 0),
    Cell("after-completed-before-ack", 2, "remove", "submitted", 0),
    Cell("after-ack-commit", 2, "remove", "nothing", 0),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("cell", "scene_size"),
    [(c, 1000 + c.changes - 600) for c in CELLS],
    ids=[c.id for c in CELLS],
)
async def test_a_crash_at_any_failpoint_loses_nothing_and_resends_at_most_the_batch_in_doubt(
    scene: Scene, cell: Cell
) -> None:
    s = scene
    assert (await s.sync_here()).outcome == "success"
    await s.searchable()  # the leavers-to-be must be found to be removed
    s.segment.churn(changes=cell.changes, adds=150, removes=50)
    s.segment.write()
    upserts = cell.changes + 150
    started_at = len(s.emulator.requests)

    crashed = await s.sync(failpoints=f"{cell.failpoint}=exit@{cell.nth}")
    assert crashed.code == FAILPOINT_EXIT, crashed.describe()
    assert f"failpoint {cell.failpoint}: exiting" in crashed.err
    outbox = open_batches(s.state)
    assert all(b.kind == cell.kind for b in outbox), outbox  # an earlier batch was closed
    if cell.outbox == "nothing":
        assert outbox == []
    else:
        (batch,) = outbox
        assert batch.state == cell.outbox
        assert (batch.job_id is not None) == (cell.outbox == "submitted")
        assert len(batch.emails) == (upserts if cell.kind == "upsert" else 50)
    persisted = [b for b in outbox if b.job_id is not None]
    crashed_at = len(s.emulator.requests)
    if cell.failpoint == "mid-request-body":  # the cut body never became a job
        cut = [
            r
            for r in s.emulator.requests[started_at:]
            if r.template == "PUT /v3/marketing/contacts"
        ]
        assert all(r.job_id is None for r in cut), cut

    runs = await s.until_quiet()

    assert runs[0].code == 0, runs[0].describe()
    result = await s.audit()
    after_crash = {r.job_id for r in s.emulator.requests[crashed_at:] if r.job_id}
    resent_jobs = after_crash & result.requests_carrying(e for b in persisted for e in b.emails)
    record_figure(
        "D1",
        cell=cell.id,
        recovery_runs=len(runs),
        new_requests_for_persisted_job=len(resent_jobs),
        **result.figures(),
    )
    assert result.lost == [], result.lost[:5]
    assert result.extra == [], result.extra[:5]
    assert not result.overlaps
    assert result.unnecessary == 0
    assert resent_jobs == set()  # a recorded job id is polled, never sent again
    assert len(result.redundant_requests) == cell.redundant  # at most the one batch in doubt
    assert result.redundant == cell.redundant * (upserts if cell.kind == "upsert" else 50)
