"""The runs' history: each run's record, its rejections, and how much of it is kept.

The statements that begin and finish a run, record the rows it rejected, prune what
is older than the runs kept, and read the history back for `status`, `history` and
the schedule's restore. Part of `SqlText`.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncd.ledger.statements import Statements


@dataclass(frozen=True)
class RunsSql(Statements):
    """The runs, their rejections, and their pruning."""

    begin_run: str = (
        "INSERT INTO runs (destination, trigger, digest, started_at) VALUES (?, ?, ?, ?)"
        " RETURNING id"
    )
    # A run still without an end when another begins was interrupted (the process was
    # killed): the new run holds the destination's claim, so no live run can own it. It
    # ended, at the latest, when the new one began (never before it began itself: two
    # replicas' clocks may differ), so the history never shows two runs at once.
    close_interrupted: str = (
        "UPDATE runs SET ended_at = CASE WHEN started_at > ? THEN started_at ELSE ? END,"
        " outcome = 'temporary', error = ? WHERE destination = ? AND ended_at IS NULL"
    )
    finish_run: str = (
        "UPDATE runs SET ended_at = ?, outcome = ?, counts = ?, error = ?, read_path = ?"
        " WHERE id = ?"
    )
    _keep_from: str = (
        "(SELECT id FROM runs WHERE destination = ? ORDER BY id DESC LIMIT 1 OFFSET ?)"
    )
    prune_runs: str = "DELETE FROM runs WHERE destination = ? AND id <= " + _keep_from
    prune_rejections: str = (
        "DELETE FROM rejections WHERE destination = ? AND run_id <= " + _keep_from
    )
    prune_sent_batches: str = (
        "DELETE FROM sent_batches WHERE destination = ? AND id <= (SELECT id FROM sent_batches"
        " WHERE destination = ? ORDER BY id DESC LIMIT 1 OFFSET ?)"
    )
    prune_departures: str = "DELETE FROM departures WHERE destination = ? AND departed_at < ?"
    count_rejections: str = "SELECT count(*) FROM rejections WHERE run_id = ?"
    insert_rejection: str = (
        "INSERT INTO rejections (run_id, destination, segment, row, reason, email)"
        " VALUES (?, ?, ?, ?, ?, ?)"
    )
    runs: str = (
        "SELECT id, destination, trigger, digest, started_at, ended_at, outcome, counts, error,"
        " read_path FROM runs WHERE destination = ? ORDER BY id DESC LIMIT ?"
    )
    rejections: str = (
        "SELECT segment, row, reason, email FROM rejections WHERE run_id = ?"
        " ORDER BY segment, row LIMIT ?"
    )
    # Audits (trigger `audit`) are left out: the status and the schedule follow the runs
    # that keep the list (an audit's own findings come from the `drift` table).
    summaries: str = (
        "SELECT r.destination, r.id, r.destination, r.trigger, r.digest, r.started_at,"
        " r.ended_at, r.outcome, r.counts, r.error, r.read_path,"
        " (SELECT max(s.ended_at) FROM runs s"
        "   WHERE s.destination = r.destination AND s.outcome = 'success'"
        "   AND s.trigger <> 'audit'),"
        " (SELECT count(*) FROM batches b WHERE b.destination = r.destination),"
        " (SELECT min(b.created_at) FROM batches b WHERE b.destination = r.destination),"
        " (SELECT count(*) FROM erasures e WHERE e.destination = r.destination)"
        " FROM runs r WHERE r.id IN"
        "   (SELECT max(id) FROM runs WHERE trigger <> 'audit' GROUP BY destination)"
        " ORDER BY r.destination"
    )
