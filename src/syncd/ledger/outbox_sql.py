"""The destination's own row, and the outbox: batches, their items and what they end in.

The statements that keep a destination's epoch (the fence every write is checked
against), its fields and its in-sync record; that prepare, submit, split and end the
outbox's batches; and that record what an ended batch leaves behind (acknowledgements,
attempts, departures). Part of `SqlText`.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncd.ledger.statements import Statements


@dataclass(frozen=True)
class OutboxSql(Statements):
    """The destination's row, and the outbox's batches and items."""

    ensure_destination: str = (
        "INSERT INTO destinations (name, epoch) VALUES (?, 0) ON CONFLICT (name) DO NOTHING"
    )
    bump_epoch: str = "UPDATE destinations SET epoch = epoch + 1 WHERE name = ?"
    epoch: str = "SELECT epoch FROM destinations WHERE name = ?"
    get_fields: str = "SELECT fields, field_generation FROM destinations WHERE name = ?"
    set_fields: str = "UPDATE destinations SET fields = ?, field_generation = ? WHERE name = ?"
    get_in_sync: str = "SELECT in_sync FROM destinations WHERE name = ?"
    set_in_sync: str = "UPDATE destinations SET in_sync = ? WHERE name = ?"
    get_segment_rows: str = "SELECT segment_rows FROM destinations WHERE name = ?"
    set_segment_rows: str = "UPDATE destinations SET segment_rows = ? WHERE name = ?"
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
    # Where `Tx.append` writes a batch's items (an INSERT, or a COPY on PostgreSQL).
    items_target: str = (
        "outbox_items (batch_id, destination, email, fingerprint, binding, raw, body, segment, row)"
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
    count_not_removed: str = (
        "SELECT count(*) FROM departures WHERE destination = ? AND how = 'notRemoved'"
    )
    given_up_leavers: str = (
        "SELECT email FROM departures WHERE destination = ? AND how = 'notRemoved'"
        " ORDER BY email LIMIT ?"
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
    # The custom fields changed (recreated with another id or type): every refusal was
    # judged against the former ones (a date refused for a Date field is fine for Text).
    forget_attempts: str = "DELETE FROM attempts WHERE destination = ?"
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
