"""What every step of applying a plan shares: the ledger session, the client, open jobs.

Each batch goes through the outbox: recorded before its request, its send counted, its
job id recorded right after the 202. A batch whose body went out `max_batch_sends` times
without SendGrid confirming a job is abandoned and the destination stalls with a reason:
never a hot loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from syncd import failpoints
from syncd.clock import Clock
from syncd.contacts import NOTHING_FORGOTTEN, Forgotten
from syncd.errors import SendGridStalled, SendGridUnavailable
from syncd.ledger import Batch, BatchKind, LedgerSession, OutboxItem, Rejection
from syncd.reconciling.progress import RunProgress
from syncd.reconciling.threads import in_thread
from syncd.sendgrid import SendGridClient

STOPPING = "stopping: open jobs are polled again after the restart"


@dataclass(frozen=True)
class Limits:
    """How long and how often: from the process settings."""

    job_timeout: float = 3600.0
    poll_max_interval: float = 30.0
    unknown_job_grace: float = 600.0
    """How long SendGrid may not know an upsert job before its batch is sent again."""
    stuck_job_after: float = 86400.0
    """How long after it was submitted a job SendGrid still calls pending is taken for lost."""
    max_batch_sends: int = 10
    removal_window: float = 3600.0
    """How long a leaver SendGrid's search does not find is looked for before giving up."""
    search_lag_grace: float = 600.0
    """How long SendGrid's search may lag behind a job: a removal SendGrid accepted may take
    this long to show before it is sent again (SendGrid has answered 202 to removals it did
    not apply), and the contacts of a job that ended with errors it did not name are looked
    up only this long after their batch went out (the batch stays open meanwhile)."""


@dataclass
class Applied:
    upserted: int = 0
    resumed: int = 0
    """Of `upserted`, the contacts of batches earlier runs left open (a crash, a job that
    outlived its run), acknowledged by this run before its diff: that diff then counts
    them among the unchanged, as they are on the list by then."""
    removed: int = 0
    failed_jobs: int = 0
    batches_done: int = 0
    """Batches acknowledged (applied) in this run, resumed ones included."""
    rejections: list[Rejection] = field(default_factory=list)
    moved_away: list[Rejection] = field(default_factory=list)
    """Leavers of the destination's former list, forgotten (`forget_moved_away`): told
    like rejections, counted apart (`movedAway`), not as rejected."""
    set_aside: int = 0
    """Contacts refused for the account's contact limit, set aside uncharged (`settling`)."""
    refused: int = 0
    """Contacts SendGrid refused up front (in a 4xx answer), isolated from their batch."""
    pending_removals: int = 0
    """Leavers still on the list as far as syncd can tell: not found yet, or a removal sent
    but not yet confirmed by search."""
    stalled: str | None = None
    """Why SendGrid cannot take more now (a job failed as a whole), if so."""
    erased: int = 0
    """Contacts `syncd forget` asked to delete, confirmed gone from SendGrid."""
    pending_erasures: int = 0
    """Erasures not confirmed yet: not found yet, waiting for a job, or sent."""
    awaiting_search: int = 0
    """Contacts of jobs that ended with errors SendGrid did not name, which its search
    does not show applied yet: their batches stay open, looked up again on a later run."""
    returning: int = 0
    """Leavers back in the segment whose removal SendGrid may still apply: their re-add
    waits (`returning`), looked at again soon."""
    erasures_given_up: dict[str, str] = field(default_factory=dict)
    """Address → why its erasure was given up (kept in memory only: `syncd forget`
    prints it for the one address it was asked about)."""


class Outbox:
    def __init__(
        self,
        session: LedgerSession,
        client: SendGridClient,
        *,
        list_id: str,
        run_id: int | None,
        segment_names: list[str],
        limits: Limits,
        clock: Clock,
        stopping: Callable[[], bool],
        live: RunProgress | None = None,
        on_this_list: frozenset[int] | None = None,
    ) -> None:
        self.session = session
        self.client = client
        self.list_id = list_id
        self.on_this_list = on_this_list
        """The bindings of contacts syncd put on this list (`FieldBinding.on_this_list`)."""
        self.run_id = run_id
        self.segment_names = segment_names
        self.limits = limits
        self.clock = clock
        self.stopping = stopping
        self.live = live or RunProgress(clock)
        self.pending: list[Batch] = []
        self.result = Applied()
        self.forgotten: Forgotten = NOTHING_FORGOTTEN
        """Forgotten addresses: dropped from upsert jobs that were in flight at the forget."""

    async def open_batch(self, kind: BatchKind, items: list[OutboxItem]) -> Batch:
        if self.stopping():
            raise SendGridUnavailable("stopping: no new batches are started")
        if self.result.stalled:
            raise SendGridStalled(self.result.stalled)
        batch = await in_thread(self.session.prepare, kind, self.list_id, items, self.run_id)
        self.live.batch_prepared()
        failpoints.hit("after-outbox-commit")
        return batch

    async def count_send(self, batch: Batch) -> None:
        sends = await in_thread(self.session.sending, batch.id)
        if sends > self.limits.max_batch_sends:
            await in_thread(self.session.abandon, batch.id)
            raise SendGridStalled(
                f"a batch of {batch.size:,} contacts was sent {sends - 1} times without "
                "SendGrid confirming a job for it; it is abandoned (its contacts are sent "
                "again in a new batch when SendGrid is re-checked). Check SendGrid's status"
            )

    async def submitted(self, batch: Batch, job_id: str) -> None:
        failpoints.hit("after-202-before-job-commit")
        submitted_at = await in_thread(self.session.submitted, batch.id, job_id)
        failpoints.hit("after-job-commit")
        self.pending.append(
            replace(batch, state="submitted", job_id=job_id, submitted_at=submitted_at)
        )
        self.live.batch_submitted(batch.size, upsert=batch.kind == "upsert")
        self.jobs_changed()

    def jobs_changed(self) -> None:
        submitted = [b.submitted_at for b in self.pending if b.submitted_at is not None]
        self.live.jobs(len(self.pending), min(submitted, default=None))
