"""The ledger's statements, written once for SQLite and PostgreSQL.

Both speak `ON CONFLICT`, `RETURNING` and `FILTER`; the placeholder, the name of the
per-connection snapshot tables and the one sort-and-deduplicate statement differ.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Statements:
    """Statements written with `?` and `{snapshot}`, rewritten for one backend."""

    param: str = "?"
    snapshot: str = "temp.snapshot"

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in ("param", "snapshot"):
                continue
            object.__setattr__(self, f.name, self.adapt(getattr(self, f.name)))

    def adapt(self, text: str) -> str:
        """A statement written for SQLite (`?`, `{snapshot}`) as this backend takes it."""
        text = text.replace("{snapshot}", self.snapshot)
        text = text.replace("{snapshot_name}", self.snapshot.rpartition(".")[2])
        return text.replace("?", self.param) if self.param != "?" else text


@dataclass(frozen=True)
class SqlText(Statements):
    """Everything but erasure (`forget_sql`)."""

    # -- the run's snapshot ------------------------------------------------------------
    # Rows are appended as read (no index: random-order B-tree inserts cost several times
    # more), then sorted once into `snapshot`, where the first row of an email wins and
    # each row learns whether it is known (acknowledged before) and stale (new, or its
    # source values differ from those acknowledged: it must be built and compared).
    # The sort carries keys only: a row's source values stay in `snapshot_in`, found by
    # `seq` for the rows that are stale. Carrying them (≈ 150 bytes a row) made the sort
    # of a 1M segment on SQLite about 2.5 times slower, through its temporary files. The
    # staged rows are therefore kept until the build is done. With nothing acknowledged
    # (a first export) every row is built: the values then go through the sort
    # (`finalize_all_new`), read in order rather than looked up one by one (on SQLite
    # 6.4 s of CPU at 1M instead of 8.0 for the sort and the read; not on PostgreSQL).
    stage: str = "INSERT INTO {snapshot}_in (email, raw, vals, segment, row) VALUES (?, ?, ?, ?, ?)"
    staged_distinct: str = "SELECT count(DISTINCT email) FROM {snapshot}_in"
    finalize: str = (
        "INSERT OR IGNORE INTO {snapshot} (email, raw, seq, segment, row, known, stale)"
        " SELECT i.email, i.raw, i.seq, i.segment, i.row, a.email IS NOT NULL,"
        " a.email IS NULL OR a.raw IS NOT i.raw"
        " FROM {snapshot}_in i LEFT JOIN acked a ON a.destination = ? AND a.email = i.email"
        " ORDER BY i.email, i.seq"
    )
    any_acked: str = "SELECT EXISTS (SELECT 1 FROM acked WHERE destination = ?)"
    finalize_all_new: str = (
        "INSERT OR IGNORE INTO {snapshot} (email, raw, seq, vals, segment, row, known, stale)"
        " SELECT email, raw, seq, vals, segment, row, FALSE, TRUE"
        " FROM {snapshot}_in ORDER BY email, seq"
    )
    clear_staged: str = ""  # at finalize, when the snapshot carries the values
    # After the build. Not on SQLite: a delete does not shrink its temporary file (0.5 s
    # at 1M for nothing), and the table goes with the session's connection.
    release_staged: str = ""
    snapshot_counts: str = (
        "SELECT count(*), count(*) FILTER (WHERE NOT known),"
        " count(*) FILTER (WHERE stale AND NOT known), count(*) FILTER (WHERE stale AND known)"
        " FROM {snapshot}"
    )
    refresh_flags: str = (
        "UPDATE {snapshot} SET"
        " known = EXISTS (SELECT 1 FROM acked a"
        "   WHERE a.destination = ? AND a.email = {snapshot_name}.email),"
        " stale = NOT EXISTS (SELECT 1 FROM acked a"
        "   WHERE a.destination = ? AND a.email = {snapshot_name}.email"
        "   AND a.raw = {snapshot_name}.raw)"
    )
    other_binding: str = "SELECT 1 FROM acked WHERE destination = ? AND binding <> ? LIMIT 1"
    mark_rebind: str = (
        "UPDATE {snapshot} SET stale = TRUE WHERE known AND email IN"
        " (SELECT email FROM acked WHERE destination = ? AND binding <> ?)"
    )
    stale_page: str = (
        "SELECT s.email, s.raw,"
        " coalesce(s.vals, (SELECT i.vals FROM {snapshot}_in i WHERE i.seq = s.seq)),"
        " s.segment, s.row, a.email IS NOT NULL, a.fingerprint, a.binding"
        " FROM {snapshot} s LEFT JOIN acked a ON a.destination = ? AND a.email = s.email"
        " WHERE s.stale AND s.fingerprint IS NULL AND s.email > ? ORDER BY s.email LIMIT ?"
    )
    set_built: str = "UPDATE {snapshot} SET fingerprint = ?, payload = ? WHERE email = ?"
    settle: str = "UPDATE {snapshot} SET stale = FALSE WHERE email = ?"
    drop: str = "DELETE FROM {snapshot} WHERE email = ?"
    refresh_raw: str = "UPDATE acked SET raw = ? WHERE destination = ? AND email = ?"
    count_acked: str = "SELECT count(*) FROM acked WHERE destination = ?"
    # A first export: nothing acknowledged, no batch open, no retry spent.
    nothing_recorded: str = (
        "SELECT NOT EXISTS (SELECT 1 FROM acked WHERE destination = ?)"
        " AND NOT EXISTS (SELECT 1 FROM batches WHERE destination = ?)"
        " AND NOT EXISTS (SELECT 1 FROM attempts WHERE destination = ?)"
    )
    # Order-independent sums of the acknowledged source fingerprints (two 32-bit halves,
    # so the sums cannot overflow), to tell "the source equals what SendGrid has".
    acked_digest: str = (
        "SELECT count(*), sum(raw & 4294967295), sum((raw >> 32) & 4294967295),"
        " count(*) FILTER (WHERE binding <> ?) FROM acked WHERE destination = ?"
    )
    # Driven by the small tables (open batches, retry budgets): CROSS JOIN keeps SQLite
    # from scanning the snapshot instead.
    count_held: str = (
        "SELECT count(*) FILTER (WHERE NOT s.known), count(*) FILTER (WHERE s.known)"
        " FROM outbox_items o CROSS JOIN {snapshot} s"
        " WHERE o.destination = ? AND s.email = o.email AND s.stale"
    )
    _exhausted_from: str = (
        " FROM attempts t CROSS JOIN {snapshot} s"
        " WHERE t.destination = ? AND t.count >= ? AND s.email = t.email"
        "   AND s.fingerprint = t.fingerprint AND s.stale"
        "   AND NOT EXISTS (SELECT 1 FROM outbox_items o"
        "     WHERE o.destination = t.destination AND o.email = t.email)"
    )
    count_exhausted: str = (
        "SELECT count(*) FILTER (WHERE NOT s.known), count(*) FILTER (WHERE s.known)"
        + _exhausted_from
    )
    exhausted: str = (
        "SELECT t.segment, t.row, t.reason, t.email" + _exhausted_from + " ORDER BY t.email"
    )
    gone: str = (
        "SELECT a.email FROM acked a WHERE a.destination = ? AND a.email > ?"
        " AND NOT EXISTS (SELECT 1 FROM {snapshot} s WHERE s.email = a.email)"
        " AND NOT EXISTS (SELECT 1 FROM outbox_items o"
        "   WHERE o.destination = a.destination AND o.email = a.email)"
        " ORDER BY a.email LIMIT ?"
    )
    to_send: str = (
        "SELECT s.email, s.fingerprint, s.payload, s.segment, s.row, NOT s.known, s.raw"
        " FROM {snapshot} s"
        " WHERE s.stale AND s.fingerprint IS NOT NULL AND s.email > ?"
        "   AND NOT EXISTS (SELECT 1 FROM outbox_items o"
        "     WHERE o.destination = ? AND o.email = s.email)"
        "   AND NOT EXISTS (SELECT 1 FROM attempts t WHERE t.destination = ?"
        "     AND t.email = s.email AND t.fingerprint = s.fingerprint AND t.count >= ?)"
        " ORDER BY s.email LIMIT ?"
    )
    forget: str = "DELETE FROM acked WHERE destination = ? AND email = ?"
    # Touches the schema and a table page: "reachable" must also mean "readable".
    ping: str = "SELECT count(*) FROM destinations"

    # -- leavers: where each removal stands ------------------------------------------------
    leavers: str = (
        "SELECT a.email, r.first_missed_at, r.sent_at, coalesce(r.sends, 0)"
        " FROM acked a LEFT JOIN removals r ON r.destination = a.destination AND r.email = a.email"
        " WHERE a.destination = ? AND a.email > ?"
        " AND NOT EXISTS (SELECT 1 FROM {snapshot} s WHERE s.email = a.email)"
        " AND NOT EXISTS (SELECT 1 FROM outbox_items o"
        "   WHERE o.destination = a.destination AND o.email = a.email)"
        " ORDER BY a.email LIMIT ?"
    )
    # A leaver back in the segment starts afresh if it leaves again.
    clear_returned: str = (
        "DELETE FROM removals WHERE destination = ? AND email IN (SELECT email FROM {snapshot})"
    )
    missed: str = (
        "INSERT INTO removals (destination, email, first_missed_at) VALUES (?, ?, ?)"
        " ON CONFLICT (destination, email) DO UPDATE SET"
        " first_missed_at = coalesce(removals.first_missed_at, excluded.first_missed_at)"
    )
    # Only for contacts still acknowledged: an address forgotten while its removal was in
    # flight leaves no record behind (an erasure's own sends are counted in `erasures`).
    removal_sent: str = (
        "INSERT INTO removals (destination, email, sent_at, sends)"
        " SELECT destination, email, ?, 1 FROM acked WHERE destination = ? AND email = ?"
        " ON CONFLICT (destination, email) DO UPDATE SET"
        " sent_at = excluded.sent_at, sends = removals.sends + 1"
    )
    forget_removal: str = "DELETE FROM removals WHERE destination = ? AND email = ?"
    pending_removals: str = (
        "SELECT count(*) FROM acked a WHERE a.destination = ?"
        " AND NOT EXISTS (SELECT 1 FROM {snapshot} s WHERE s.email = a.email)"
    )

    ensure_destination: str = (
        "INSERT INTO destinations (name, epoch) VALUES (?, 0) ON CONFLICT (name) DO NOTHING"
    )
    bump_epoch: str = "UPDATE destinations SET epoch = epoch + 1 WHERE name = ?"
    epoch: str = "SELECT epoch FROM destinations WHERE name = ?"
    get_fields: str = "SELECT fields, field_generation FROM destinations WHERE name = ?"
    set_fields: str = "UPDATE destinations SET fields = ?, field_generation = ? WHERE name = ?"
    get_in_sync: str = "SELECT in_sync FROM destinations WHERE name = ?"
    set_in_sync: str = "UPDATE destinations SET in_sync = ? WHERE name = ?"
    # An UPDATE, not a SELECT: it locks the row, so a newer claim waits for this commit.
    fence: str = "UPDATE destinations SET epoch = epoch WHERE name = ? AND epoch = ?"

    open_batches: str = (
        "SELECT b.id, b.kind, b.state, b.list_id, b.job_id, b.created_at, b.submitted_at,"
        " (SELECT count(*) FROM outbox_items o WHERE o.batch_id = b.id), b.sends,"
        " b.unknown_since"
        " FROM batches b WHERE b.destination = ? ORDER BY b.id"
    )
    count_send: str = "UPDATE batches SET sends = sends + 1 WHERE id = ? RETURNING sends"
    mark_unknown: str = (
        "UPDATE batches SET unknown_since = coalesce(unknown_since, ?) WHERE id = ?"
        " RETURNING unknown_since"
    )
    item_pairs: str = "SELECT email, body FROM outbox_items WHERE batch_id = ? ORDER BY email"
    drop_item: str = "DELETE FROM outbox_items WHERE batch_id = ? AND email = ?"
    # A batch split in two: the items from `email` on move to the new batch.
    move_items: str = "UPDATE outbox_items SET batch_id = ? WHERE batch_id = ? AND email >= ?"
    batch_size: str = "SELECT count(*) FROM outbox_items WHERE batch_id = ?"
    reset_sends: str = "UPDATE batches SET sends = 0 WHERE id = ?"
    set_item_body: str = "UPDATE outbox_items SET body = ? WHERE batch_id = ? AND email = ?"
    insert_batch: str = (
        "INSERT INTO batches (destination, kind, state, list_id, created_at, run_id)"
        " VALUES (?, ?, 'prepared', ?, ?, ?) RETURNING id"
    )
    insert_item: str = (
        "INSERT INTO outbox_items"
        " (batch_id, destination, email, fingerprint, binding, raw, body, segment, row)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    item_bodies: str = "SELECT body FROM outbox_items WHERE batch_id = ? ORDER BY email"
    item_emails: str = "SELECT email FROM outbox_items WHERE batch_id = ? ORDER BY email"
    mark_submitted: str = (
        "UPDATE batches SET state = 'submitted', job_id = ?, submitted_at = ? WHERE id = ?"
    )
    mark_prepared: str = (
        "UPDATE batches SET state = 'prepared', job_id = NULL, submitted_at = NULL WHERE id = ?"
    )
    mark_item_rejected: str = (
        "UPDATE outbox_items SET rejected = ? WHERE batch_id = ? AND email = ?"
    )
    ack_items: str = (
        "INSERT INTO acked (destination, email, fingerprint, binding, raw, acked_at, sent_in)"
        " SELECT destination, email, fingerprint, binding, raw, ?, ? FROM outbox_items"
        " WHERE batch_id = ? AND rejected IS NULL"
        " ON CONFLICT (destination, email) DO UPDATE SET fingerprint = excluded.fingerprint,"
        " binding = excluded.binding, raw = excluded.raw, acked_at = excluded.acked_at,"
        " sent_in = excluded.sent_in"
    )
    # An ended batch, with its job and outcome, for `syncd explain`.
    log_batch: str = (
        "INSERT INTO sent_batches"
        " (destination, batch_id, run_id, kind, job_id, size, submitted_at, ended_at, outcome)"
        " SELECT b.destination, b.id, b.run_id, b.kind, b.job_id,"
        " (SELECT count(*) FROM outbox_items o WHERE o.batch_id = b.id), b.submitted_at, ?, ?"
        " FROM batches b WHERE b.id = ? RETURNING id"
    )
    depart: str = (
        "INSERT INTO departures (destination, email, departed_at, how) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (destination, email) DO UPDATE SET"
        " departed_at = excluded.departed_at, how = excluded.how"
    )
    clear_departures: str = (
        "DELETE FROM departures WHERE destination = ? AND email IN"
        " (SELECT email FROM outbox_items WHERE batch_id = ? AND rejected IS NULL)"
    )
    clear_removals: str = (
        "DELETE FROM removals WHERE destination = ? AND email IN"
        " (SELECT email FROM outbox_items WHERE batch_id = ? AND rejected IS NULL)"
    )
    # Which of the three tables an acknowledgement clears hold anything for the
    # destination: on a first export none does, and each clear would still build the
    # batch's list of emails (30,000) to look them up.
    holds_records: str = (
        "SELECT EXISTS (SELECT 1 FROM attempts WHERE destination = ?),"
        " EXISTS (SELECT 1 FROM removals WHERE destination = ?),"
        " EXISTS (SELECT 1 FROM departures WHERE destination = ?)"
    )
    clear_attempts: str = (
        "DELETE FROM attempts WHERE destination = ? AND email IN"
        " (SELECT email FROM outbox_items WHERE batch_id = ? AND rejected IS NULL)"
    )
    count_attempts: str = (
        "INSERT INTO attempts"
        " (destination, email, fingerprint, count, segment, row, reason, sent_in)"
        " SELECT destination, email, fingerprint, 1, segment, row, rejected, ? FROM outbox_items"
        " WHERE batch_id = ? AND rejected IS NOT NULL"
        " ON CONFLICT (destination, email) DO UPDATE SET"
        " count = CASE WHEN attempts.fingerprint = excluded.fingerprint"
        "   THEN attempts.count + 1 ELSE 1 END,"
        " fingerprint = excluded.fingerprint, segment = excluded.segment,"
        " row = excluded.row, reason = excluded.reason, sent_in = excluded.sent_in"
    )
    give_up: str = (
        "INSERT INTO attempts (destination, email, fingerprint, count, segment, row, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (destination, email) DO UPDATE SET fingerprint = excluded.fingerprint,"
        " count = excluded.count, segment = excluded.segment, row = excluded.row,"
        " reason = excluded.reason"
    )
    give_up_items: str = (
        "INSERT INTO attempts (destination, email, fingerprint, count, segment, row, reason)"
        " SELECT destination, email, fingerprint, ?, segment, row, rejected FROM outbox_items"
        " WHERE batch_id = ? AND rejected IS NOT NULL"
        " ON CONFLICT (destination, email) DO UPDATE SET fingerprint = excluded.fingerprint,"
        " count = excluded.count, segment = excluded.segment, row = excluded.row,"
        " reason = excluded.reason"
    )
    drop_acked: str = (
        "DELETE FROM acked WHERE destination = ? AND email IN"
        " (SELECT email FROM outbox_items WHERE batch_id = ? AND rejected IS NULL)"
    )
    rejected_items: str = (
        "SELECT segment, row, rejected, email FROM outbox_items"
        " WHERE batch_id = ? AND rejected IS NOT NULL ORDER BY segment, row"
    )
    delete_items: str = "DELETE FROM outbox_items WHERE batch_id = ?"
    delete_batch: str = "DELETE FROM batches WHERE id = ?"

    begin_run: str = (
        "INSERT INTO runs (destination, trigger, digest, started_at) VALUES (?, ?, ?, ?)"
        " RETURNING id"
    )
    finish_run: str = (
        "UPDATE runs SET ended_at = ?, outcome = ?, counts = ?, error = ? WHERE id = ?"
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
        "SELECT id, destination, trigger, digest, started_at, ended_at, outcome, counts, error"
        " FROM runs WHERE destination = ? ORDER BY id DESC LIMIT ?"
    )
    rejections: str = (
        "SELECT segment, row, reason, email FROM rejections WHERE run_id = ?"
        " ORDER BY segment, row LIMIT ?"
    )
    # Audits (trigger `audit`) are left out: the status and the schedule follow the runs
    # that keep the list (an audit's own findings come from the `drift` table).
    summaries: str = (
        "SELECT r.destination, r.id, r.destination, r.trigger, r.digest, r.started_at,"
        " r.ended_at, r.outcome, r.counts, r.error,"
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
