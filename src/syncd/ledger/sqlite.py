"""The embedded ledger: one SQLite file in WAL mode, one writing process.

The process holds an exclusive `flock` on `<file>.lock` for its lifetime, so a
second writer fails at once instead of corrupting the outbox. Readers (`plan`,
`status`) need no lock. Each run gets its own connection (a `SqliteSession`),
whose temporary `snapshot` table holds the segment while SQLite computes the diff,
so memory stays flat whatever the segment's size.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from syncd.clock import SYSTEM_CLOCK, Clock
from syncd.errors import LedgerConflict, LedgerUnavailable
from syncd.ledger.records import (
    RETRY_BUDGET,
    Batch,
    BatchKind,
    DestinationSummary,
    OutboxItem,
    Rejection,
    RunRecord,
    StagedContact,
)
from syncd.ledger.sql_text import SqlText
from syncd.ledger.sqlite_schema import SNAPSHOT, migrate
from syncd.planning import DiffCounts

KEEP_RUNS = 500
KEEP_REJECTION_RUNS = 20
MAX_REJECTIONS_PER_RUN = 10_000


def _connect(path: str, *, read_only: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    try:
        connection = sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30
        )
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA temp_store = FILE")
        if not read_only:
            connection.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as error:
        raise LedgerUnavailable(f"ledger {path}: {error}") from None
    return connection


class SqliteLedger:
    """The ledger file. `writer=False` opens it for reading only, without the lock."""

    def __init__(self, path: Path, *, writer: bool = True, clock: Clock = SYSTEM_CLOCK) -> None:
        self.path = path
        self.writer = writer
        self.clock = clock
        self.sql = SqlText(param="?")
        self._lock_file: IO[bytes] | None = None
        if writer:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._take_lock()
            with self._connection() as connection:
                connection.execute("PRAGMA journal_mode = WAL")
                migrate(connection)
        self._readable = writer or path.exists()

    def _take_lock(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        handle = lock_path.open("ab")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise LedgerConflict(
                f"another syncd process is using the ledger {self.path} (lock {lock_path}); "
                "stop it, or trigger the running daemon instead (syncd sync NAME talks to it)"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._lock_file = handle

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        if self.writer:
            connection = _connect(str(self.path))
        elif self._readable:
            connection = _connect(str(self.path), read_only=True)
        else:  # nothing recorded yet: an empty ledger
            connection = _connect(":memory:")
            migrate(connection)
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def session(self, destination: str) -> Iterator[SqliteSession]:
        with self._connection() as connection:
            yield SqliteSession(connection, destination, self.clock, writer=self.writer)

    def summaries(self) -> list[DestinationSummary]:
        with self._connection() as connection:
            rows = connection.execute(self.sql.summaries).fetchall()
            return [
                DestinationSummary(
                    destination=row[0],
                    last_run=_run(row[1:10]),
                    last_success_at=row[10],
                    open_batches=row[11],
                    oldest_open_batch_at=row[12],
                )
                for row in rows
            ]

    def runs(self, destination: str, limit: int = 20) -> list[RunRecord]:
        with self._connection() as connection:
            rows = connection.execute(self.sql.runs, (destination, limit)).fetchall()
            return [_run(row) for row in rows]

    def rejections(self, run_id: int, limit: int = 100) -> list[Rejection]:
        with self._connection() as connection:
            rows = connection.execute(self.sql.rejections, (run_id, limit)).fetchall()
            return [Rejection(*row) for row in rows]

    def ping(self) -> None:
        with self._connection() as connection:
            connection.execute("SELECT 1").fetchall()

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def _run(row: Sequence[Any]) -> RunRecord:
    return RunRecord(
        id=row[0],
        destination=row[1],
        trigger=row[2],
        digest=row[3],
        started_at=row[4],
        ended_at=row[5],
        outcome=row[6],
        counts=json.loads(row[7] or "{}"),
        error=row[8],
    )


class SqliteSession:
    """One destination's state, through one connection (one run at a time)."""

    def __init__(
        self, connection: sqlite3.Connection, destination: str, clock: Clock, *, writer: bool
    ) -> None:
        self._db = connection
        self.destination = destination
        self.clock = clock
        self.sql = SqlText(param="?")
        self._db.execute(SNAPSHOT)
        self.epoch = self._claim() if writer else -1

    def _claim(self) -> int:
        with self._write(fenced=False) as db:
            db.execute(self.sql.ensure_destination, (self.destination,))
            db.execute(self.sql.bump_epoch, (self.destination,))
            epoch: int = db.execute(self.sql.epoch, (self.destination,)).fetchall()[0][0]
        return epoch

    @contextmanager
    def _write(self, *, fenced: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction; refused when another holder has claimed the destination since."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise LedgerUnavailable(f"ledger busy: {error}") from None
        try:
            if fenced:
                still_ours = self._db.execute(self.sql.fence, (self.destination, self.epoch))
                if still_ours.rowcount != 1:
                    raise LedgerConflict(
                        f"destination {self.destination} was claimed by another run; "
                        "this run stops without committing"
                    )
            yield self._db
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def field_generation(self, fields: Mapping[str, tuple[str, str]], *, record: bool) -> int:
        """A number that changes when a custom field used before got another id or type
        (the field was recreated in SendGrid, so its values must be sent again). Fields
        newly mapped do not change it: contacts without a value for them stay unchanged."""
        row = self._db.execute(self.sql.get_fields, (self.destination,)).fetchall()
        known: dict[str, list[str]] = json.loads(row[0][0]) if row else {}
        generation: int = row[0][1] if row else 0
        wanted = {name.lower(): [id_, type_] for name, (id_, type_) in fields.items()}
        if any(known.get(name, value) != value for name, value in wanted.items()):
            generation += 1
        if record and (generation != (row[0][1] if row else 0) or wanted.keys() - known.keys()):
            with self._write() as db:
                db.execute(
                    self.sql.set_fields,
                    (json.dumps(known | wanted, sort_keys=True), generation, self.destination),
                )
        return generation

    # -- runs ---------------------------------------------------------------------
    def begin_run(self, trigger: str, digest: str) -> int:
        with self._write() as db:
            row = db.execute(
                self.sql.begin_run, (self.destination, trigger, digest, self.clock.now())
            ).fetchall()[0]
        run_id: int = row[0]
        return run_id

    def finish_run(
        self, run_id: int, outcome: str, counts: Mapping[str, int], error: str | None
    ) -> None:
        with self._write() as db:
            db.execute(
                self.sql.finish_run,
                (self.clock.now(), outcome, json.dumps(dict(counts)), error, run_id),
            )
            db.execute(self.sql.prune_runs, (self.destination, self.destination, KEEP_RUNS))
            db.execute(
                self.sql.prune_rejections,
                (self.destination, self.destination, KEEP_REJECTION_RUNS),
            )

    def record_rejections(self, run_id: int, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        with self._write() as db:
            already = db.execute(self.sql.count_rejections, (run_id,)).fetchall()[0][0]
            room = max(0, MAX_REJECTIONS_PER_RUN - already)
            db.executemany(
                self.sql.insert_rejection,
                [(run_id, self.destination, r.segment, r.row, r.reason) for r in rejections[:room]],
            )

    # -- the snapshot of this run's segment ------------------------------------------
    def reset_snapshot(self) -> None:
        self._db.execute("DELETE FROM temp.snapshot")

    def stage(self, contacts: Sequence[tuple[str, int, bytes, int, int]]) -> int:
        """Add (email, fingerprint, payload, segment, row); the first of an email wins."""
        before = self._db.total_changes
        self._db.execute("BEGIN")
        self._db.executemany(self.sql.stage, contacts)
        self._db.execute("COMMIT")
        return self._db.total_changes - before

    def diff(self, binding: int, retry_budget: int) -> DiffCounts:
        d = self.destination
        row = self._db.execute(self.sql.diff_counts, (binding, d)).fetchone()
        acked = self._db.execute(self.sql.count_acked, (d,)).fetchall()[0][0]
        held = self._db.execute(self.sql.count_held, (d, d, binding)).fetchall()[0][0]
        exhausted = self._db.execute(
            self.sql.count_exhausted, (d, retry_budget, d, binding, d)
        ).fetchall()[0][0]
        gone = self._db.execute(self.sql.count_gone, (d,)).fetchall()[0][0]
        return DiffCounts(
            desired=row[0],
            acked=acked,
            new=row[1] or 0,
            changed=row[2] or 0,
            unchanged=row[0] - (row[1] or 0) - (row[2] or 0),
            gone=gone,
            held=held,
            exhausted=exhausted,
        )

    def to_send(
        self, binding: int, retry_budget: int, after: str, limit: int
    ) -> list[StagedContact]:
        """New or changed contacts, in email order after `after`, not held nor exhausted."""
        d = self.destination
        rows = self._db.execute(
            self.sql.to_send, (d, after, binding, d, d, retry_budget, limit)
        ).fetchall()
        return [
            StagedContact(
                email=row[0],
                fingerprint=row[1],
                payload=row[2],
                segment=row[3],
                row=row[4],
                is_new=bool(row[5]),
            )
            for row in rows
        ]

    def give_up(self, rejected: Sequence[tuple[StagedContact, str, str]]) -> None:
        """Contacts refused before sending (segment name, reason): not tried again until
        their payload changes; reported as rejected meanwhile."""
        if not rejected:
            return
        with self._write() as db:
            db.executemany(
                self.sql.give_up,
                [
                    (self.destination, c.email, c.fingerprint, RETRY_BUDGET, segment, c.row, reason)
                    for c, segment, reason in rejected
                ],
            )

    def exhausted(self, binding: int, retry_budget: int) -> list[Rejection]:
        d = self.destination
        rows = self._db.execute(self.sql.exhausted, (d, retry_budget, d, binding, d)).fetchall()
        return [Rejection(*row) for row in rows]

    def gone(self, after: str, limit: int) -> list[str]:
        rows = self._db.execute(self.sql.gone, (self.destination, after, limit)).fetchall()
        return [row[0] for row in rows]

    def forget(self, emails: Sequence[str]) -> None:
        """Drop contacts from the acked state without touching SendGrid (onLeave: keep)."""
        with self._write() as db:
            db.executemany(self.sql.forget, [(self.destination, e) for e in emails])

    # -- the outbox --------------------------------------------------------------------
    def open_batches(self) -> list[Batch]:
        rows = self._db.execute(self.sql.open_batches, (self.destination,)).fetchall()
        return [Batch(*row) for row in rows]

    def prepare(
        self, kind: BatchKind, list_id: str, items: Sequence[OutboxItem], run_id: int | None
    ) -> Batch:
        now = self.clock.now()
        with self._write() as db:
            batch_id: int = db.execute(
                self.sql.insert_batch, (self.destination, kind, list_id, now, run_id)
            ).fetchall()[0][0]
            db.executemany(
                self.sql.insert_item,
                [
                    (
                        batch_id,
                        self.destination,
                        i.email,
                        i.fingerprint,
                        i.binding,
                        i.body,
                        i.segment,
                        i.row,
                    )
                    for i in items
                ],
            )
        return Batch(batch_id, kind, "prepared", list_id, None, now, None, len(items))

    def bodies(self, batch_id: int) -> list[bytes]:
        return [r[0] for r in self._db.execute(self.sql.item_bodies, (batch_id,))]

    def emails(self, batch_id: int) -> list[str]:
        return [r[0] for r in self._db.execute(self.sql.item_emails, (batch_id,))]

    def submitted(self, batch_id: int, job_id: str) -> float:
        """Record the job id; returns when (epoch seconds)."""
        now = self.clock.now()
        with self._write() as db:
            db.execute(self.sql.mark_submitted, (job_id, now, batch_id))
        return now

    def reopen(self, batch_id: int) -> None:
        """The job is unknown to SendGrid: send the batch again."""
        with self._write() as db:
            db.execute(self.sql.mark_prepared, (batch_id,))

    def complete(
        self, batch: Batch, rejected: Mapping[str, str], *, applied: bool = True
    ) -> list[Rejection]:
        """The job ended: count the rejected items against their retry budget and, when the
        job was applied, acknowledge the others; then close the batch."""
        now = self.clock.now()
        with self._write() as db:
            db.executemany(
                self.sql.mark_item_rejected,
                [(reason, batch.id, email) for email, reason in rejected.items()],
            )
            if batch.kind == "upsert":
                if applied:
                    db.execute(self.sql.ack_items, (now, batch.id))
                    db.execute(self.sql.clear_attempts, (self.destination, batch.id))
                db.execute(self.sql.count_attempts, (batch.id,))
            elif applied:
                db.execute(self.sql.drop_acked, (self.destination, batch.id))
            reported = db.execute(self.sql.rejected_items, (batch.id,)).fetchall()
            db.execute(self.sql.delete_batch, (batch.id,))
        return [Rejection(*row) for row in reported]

    def abandon(self, batch_id: int) -> None:
        """The job failed as a whole: nothing was applied, the contacts return to the diff."""
        with self._write() as db:
            db.execute(self.sql.delete_batch, (batch_id,))
