"""A destination's runs in the ledger: each begun, finished with its counts and outcome,
its rejections recorded; and how much of the history is kept as runs end.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from syncd.ledger.core import SessionCore
from syncd.ledger.records import Rejection
from syncd.logs import scrub
from syncd.shapes import ReadPath

INTERRUPTED = (
    "interrupted: this run had not ended when the next began (syncd stopped, or another "
    "process ran the destination meanwhile); the next run took over"
)
KEEP_RUNS = 500
KEEP_REJECTION_RUNS = 20
MAX_REJECTIONS_PER_RUN = 10_000
KEEP_SENT_BATCHES = 1_000
"""Ended batches kept per destination (`syncd explain` names the one that carried a contact)."""
KEEP_DEPARTURES = 90 * 86_400.0
"""Seconds a contact that left the list is remembered (`syncd explain`: "removed on ...")."""


class RunState(SessionCore):
    keep_runs: int = KEEP_RUNS
    """Runs kept per destination (SYNCD_KEEP_RUNS); older ones are pruned as runs end."""

    def begin_run(self, trigger: str, digest: str, *, started_at: float | None = None) -> int:
        started_at = started_at or self.clock.now()
        with self._write() as tx:
            ended = (started_at, started_at, INTERRUPTED, self.destination)
            tx.run(self.sql.close_interrupted, ended)
            rows = tx.rows(self.sql.begin_run, (self.destination, trigger, digest, started_at))
        run_id: int = rows[0][0]
        return run_id

    def finish_run(
        self,
        run_id: int,
        outcome: str,
        counts: Mapping[str, int],
        error: str | None,
        *,
        ended_at: float | None = None,
        read: ReadPath | None = None,
    ) -> None:
        if error is not None:  # a libpq or SendGrid text may carry a secret
            error = scrub(error, addresses=False)  # every address is in the ledger anyway
        with self._write() as tx:
            tx.run(
                self.sql.finish_run,
                (
                    ended_at or self.clock.now(),
                    outcome,
                    json.dumps(dict(counts)),
                    error,
                    read,
                    run_id,
                ),
            )
            tx.run(self.sql.prune_runs, (self.destination, self.destination, self.keep_runs))
            tx.run(
                self.sql.prune_rejections,
                (self.destination, self.destination, KEEP_REJECTION_RUNS),
            )
            tx.run(
                self.sql.prune_sent_batches,
                (self.destination, self.destination, KEEP_SENT_BATCHES),
            )
            tx.run(
                self.sql.prune_departures, (self.destination, self.clock.now() - KEEP_DEPARTURES)
            )

    def record_rejections(self, run_id: int, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        with self._write() as tx:
            already = tx.rows(self.sql.count_rejections, (run_id,))[0][0]
            room = max(0, MAX_REJECTIONS_PER_RUN - already)
            tx.many(
                self.sql.insert_rejection,
                [
                    (
                        run_id,
                        self.destination,
                        r.segment,
                        r.row,
                        scrub(r.reason, addresses=False),
                        r.email,
                    )
                    for r in rejections[:room]
                ],
            )
