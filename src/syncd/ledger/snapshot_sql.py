"""The run's snapshot and the diff against what SendGrid acknowledged, and the leavers.

The statements that stage a segment's rows, sort them once into the snapshot, and
read from it what is new, changed, unchanged, gone, held or exhausted; with them the
records of where each leaver's removal stands, which are found against the same
snapshot. Part of `SqlText`.
"""

from __future__ import annotations

from dataclasses import dataclass

from syncd.ledger.statements import Statements

UNSETTLE = "UPDATE acked SET fingerprint = 0, raw = 0 WHERE destination = ? AND email = ?"
"""An acknowledged contact SendGrid may no longer hold as acknowledged (an audit found it
missing or stale, or its removal was sent): no row's prints are 0 (one chance in 2^64), so
its row, if the segment holds it, is built again and sent, and its bucket of the
acknowledged sums (0) differs from the segment's while it is acknowledged so."""

# A snapshot may be *scoped* (`digests`): staged only for the rows that differ from the
# acknowledged ones, its scope the acknowledged contacts that no row left out stands for
# (listed in `{snapshot}_scope`). Every other acknowledged contact is in the segment as it
# is, without being copied into the snapshot: the questions "which acknowledged contacts
# are absent" then start from the scope's contacts (a few, where the whole `acked` would
# be read). `_FROM` is where a question starts, after `a.email > ?`; `{order}` its order.
_FROM = "{from}"
_ALL = "acked a{removals} WHERE a.destination = ? AND a.email > ?"
_SCOPE = (
    "{snapshot}_scope x CROSS JOIN acked a{removals}"
    " WHERE a.destination = ? AND a.email = x.email AND x.email > ?"
)
_REMOVALS = " LEFT JOIN removals r ON r.destination = a.destination AND r.email = a.email"
_ABSENT = (
    " AND NOT EXISTS (SELECT 1 FROM {snapshot} s WHERE s.email = a.email)"
    " AND NOT EXISTS (SELECT 1 FROM outbox_items o"
    "   WHERE o.destination = a.destination AND o.email = a.email)"
)
_GONE = "SELECT a.email FROM " + _FROM + _ABSENT + " ORDER BY {order} LIMIT ?"
_LEAVERS = (
    "SELECT a.email, r.first_missed_at, r.sent_at, coalesce(r.sends, 0), a.binding FROM "
    + _FROM
    + _ABSENT
    + " ORDER BY {order} LIMIT ?"
)
# Every acknowledged contact absent from the segment, counted (`a.email > ''`: all).
_PENDING_REMOVALS = (
    "SELECT count(*) FROM " + _FROM + " AND NOT EXISTS (SELECT 1 FROM {snapshot} s"
    " WHERE s.email = a.email)"
)


def _back(*, unsent: bool, scoped: bool) -> str:
    """Removal records (`r`) of the destination (`?`) whose contact is in the segment again,
    those of removals never sent (`unsent`) or of removals sent. In a scoped snapshot, an
    acknowledged contact outside the scope is in the segment too (a row left out)."""
    sent = "r.sent_at IS NULL" if unsent else "r.sent_at IS NOT NULL"
    staged = "EXISTS (SELECT 1 FROM {snapshot} s WHERE s.email = r.email)"
    if scoped:
        staged = (
            f"({staged} OR (NOT EXISTS (SELECT 1 FROM {{snapshot}}_scope x"
            " WHERE x.email = r.email) AND EXISTS (SELECT 1 FROM acked a"
            " WHERE a.destination = r.destination AND a.email = r.email)))"
        )
    return f"r.destination = ? AND {sent} AND {staged}"


_RETURNING = (
    "SELECT r.email, r.sent_at FROM removals r WHERE {back} AND r.email > ?"
    " ORDER BY r.email LIMIT ?"
)


def _asked(question: str, *, scoped: bool, removals: bool = False) -> str:
    start = (_SCOPE if scoped else _ALL).replace("{removals}", _REMOVALS if removals else "")
    # A scoped page goes in the scope's order (the same emails): it then stops after its
    # LIMIT, where ordering by `a.email` sorted every remaining contact of the scope.
    order = "x.email" if scoped else "a.email"
    return question.replace(_FROM, start).replace("{order}", order)


@dataclass(frozen=True)
class SnapshotSql(Statements):
    """The run's snapshot, the diff, and the leavers."""

    # -- the run's snapshot ------------------------------------------------------------
    # Rows are appended as read (no index: random-order B-tree inserts cost several times
    # more), then sorted once into `snapshot`, where the first row of an email wins and
    # each row learns whether it is known (acknowledged before) and stale (new, or its
    # source values differ from those acknowledged: it must be built and compared), and
    # keeps the acknowledged row's print as it was then (`acked_raw`: a scoped snapshot's
    # conflict check reads it instead of joining `acked` again).
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
        "INSERT OR IGNORE INTO {snapshot} (email, raw, seq, segment, row, known, stale, acked_raw)"
        " SELECT i.email, i.raw, i.seq, i.segment, i.row, a.email IS NOT NULL,"
        " a.email IS NULL OR a.raw IS NOT i.raw, a.raw"
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
    # Statistics for the planner, once the snapshot is sorted. Only PostgreSQL needs them:
    # nothing ever analyses a temporary table there, and without them each page of the
    # build scanned and sorted the whole snapshot (quadratic in the segment's size).
    analyze_snapshot: str = ""
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
    # Whether anything is: found at the first row, where counting reads them all.
    holds_acked: str = "SELECT EXISTS (SELECT 1 FROM acked WHERE destination = ?)"
    # A first export: nothing acknowledged, no batch open, no retry spent, no removal sent
    # that may still land (a leaver kept since: its return waits for it, `returning`).
    nothing_recorded: str = (
        "SELECT NOT EXISTS (SELECT 1 FROM acked WHERE destination = ?)"
        " AND NOT EXISTS (SELECT 1 FROM batches WHERE destination = ?)"
        " AND NOT EXISTS (SELECT 1 FROM attempts WHERE destination = ?)"
        " AND NOT EXISTS (SELECT 1 FROM removals WHERE destination = ?"
        "   AND sent_at IS NOT NULL)"
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
    # Where the row is now (the snapshot's segment index and row), not where it was when
    # SendGrid refused it: a file that shifted since would name another row.
    exhausted: str = (
        "SELECT s.segment, s.row, t.reason, t.email" + _exhausted_from + " ORDER BY t.email"
    )
    gone: str = _asked(_GONE, scoped=False)
    gone_scoped: str = _asked(_GONE, scoped=True)
    # Returning leavers wait (`returning`): their removal may still land after a re-add.
    count_returning: str = (
        "SELECT count(*) FILTER (WHERE NOT s.known), count(*) FILTER (WHERE s.known)"
        " FROM removals r CROSS JOIN {snapshot} s"
        " WHERE r.destination = ? AND r.sent_at IS NOT NULL AND s.email = r.email AND s.stale"
        "   AND NOT EXISTS (SELECT 1 FROM outbox_items o"
        "     WHERE o.destination = r.destination AND o.email = r.email)"
        "   AND NOT EXISTS (SELECT 1 FROM attempts t WHERE t.destination = r.destination"
        "     AND t.email = r.email AND t.fingerprint = s.fingerprint AND t.count >= ?)"
    )
    to_send: str = (
        "SELECT s.email, s.fingerprint, s.payload, s.segment, s.row, NOT s.known, s.raw"
        " FROM {snapshot} s"
        " WHERE s.stale AND s.fingerprint IS NOT NULL AND s.email > ?"
        "   AND NOT EXISTS (SELECT 1 FROM outbox_items o"
        "     WHERE o.destination = ? AND o.email = s.email)"
        "   AND NOT EXISTS (SELECT 1 FROM removals r"
        "     WHERE r.destination = ? AND r.email = s.email AND r.sent_at IS NOT NULL)"
        "   AND NOT EXISTS (SELECT 1 FROM attempts t WHERE t.destination = ?"
        "     AND t.email = s.email AND t.fingerprint = s.fingerprint AND t.count >= ?)"
        " ORDER BY s.email LIMIT ?"
    )
    forget: str = "DELETE FROM acked WHERE destination = ? AND email = ?"
    # Touches the schema and a table page: "reachable" must also mean "readable".
    ping: str = "SELECT count(*) FROM destinations"

    # -- leavers: where each removal stands ------------------------------------------------
    leavers: str = _asked(_LEAVERS, scoped=False, removals=True)
    leavers_scoped: str = _asked(_LEAVERS, scoped=True, removals=True)
    # A leaver back in the segment starts afresh if it leaves again, unless its removal
    # was sent: SendGrid may still apply it, after any re-add, so the record stays until
    # search shows it applied or its grace has passed (`returning`).
    clear_returned: str = "DELETE FROM removals AS r WHERE " + _back(unsent=True, scoped=False)
    clear_returned_scoped: str = "DELETE FROM removals AS r WHERE " + _back(
        unsent=True, scoped=True
    )
    # Returning leavers: back in the segment after their removal was sent (driven by the
    # removals, a few), a page at a time in email order.
    returning: str = _RETURNING.format(back=_back(unsent=False, scoped=False))
    returning_scoped: str = _RETURNING.format(back=_back(unsent=False, scoped=True))
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
    # Once a removal is sent, SendGrid may apply it at any time: the contact's place on the
    # list is in doubt until search confirms it gone. Unsettled (`UNSETTLE`): if it comes
    # back to the segment before that, its row differs from the acknowledged one and is sent
    # again, never taken as on the list. Only its bucket differs: the next run still reads
    # the buckets that differ, not every row.
    doubt_acked: str = UNSETTLE
    forget_removal: str = "DELETE FROM removals WHERE destination = ? AND email = ?"
    # A leaver kept (`onLeave: keep`, set while its removal was in flight) leaves the ledger,
    # but a removal already sent may still land: its record stays, so that if it comes back
    # its re-add waits for that removal like any returning leaver's (`returning`).
    forget_unsent_removal: str = (
        "DELETE FROM removals WHERE destination = ? AND email = ? AND sent_at IS NULL"
    )
    # Leavers an earlier run already began to remove (looked up, or sent): driven by the
    # removals (a few), each absent from the segment (scoped: in the scope, not staged).
    removing_already: str = (
        "SELECT count(*) FROM removals r WHERE r.destination = ?"
        " AND NOT EXISTS (SELECT 1 FROM {snapshot} s WHERE s.email = r.email)"
        " AND EXISTS (SELECT 1 FROM acked a WHERE a.destination = r.destination"
        "   AND a.email = r.email)"
    )
    removing_already_scoped: str = (
        removing_already + " AND EXISTS (SELECT 1 FROM {snapshot}_scope x WHERE x.email = r.email)"
    )
    pending_removals: str = _asked(_PENDING_REMOVALS, scoped=False)
    pending_removals_scoped: str = _asked(_PENDING_REMOVALS, scoped=True)
