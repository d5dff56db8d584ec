"""The PostgreSQL ledger's schema: versioned migrations, applied at start under a lock."""

from __future__ import annotations

import psycopg

from syncd.errors import LedgerConflict

MIGRATION_LOCK = 0x5359_4E43_4400_0001  # "SYNCD" + 1: one migrator at a time

MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE destinations (
    name             text PRIMARY KEY,
    epoch            bigint NOT NULL DEFAULT 0,
    fields           text NOT NULL DEFAULT '{}',
    field_generation integer NOT NULL DEFAULT 0,
    in_sync          text
);
CREATE TABLE acked (
    destination text NOT NULL,
    email       text NOT NULL,
    fingerprint bigint NOT NULL,
    binding     bigint NOT NULL,
    raw         bigint NOT NULL,
    acked_at    double precision NOT NULL,
    PRIMARY KEY (destination, email)
);
CREATE TABLE batches (
    id           bigserial PRIMARY KEY,
    destination  text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('upsert', 'remove', 'delete')),
    state        text NOT NULL CHECK (state IN ('prepared', 'submitted')),
    list_id      text NOT NULL,
    job_id       text,
    created_at   double precision NOT NULL,
    submitted_at double precision,
    run_id       bigint
);
CREATE INDEX batches_by_destination ON batches (destination, id);
CREATE TABLE outbox_items (
    batch_id    bigint NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    destination text NOT NULL,
    email       text NOT NULL,
    fingerprint bigint NOT NULL,
    binding     bigint NOT NULL,
    raw         bigint NOT NULL,
    body        bytea NOT NULL,
    segment     text NOT NULL,
    row         integer NOT NULL,
    rejected    text,
    PRIMARY KEY (batch_id, email)
);
CREATE UNIQUE INDEX outbox_items_by_contact ON outbox_items (destination, email);
CREATE TABLE attempts (
    destination text NOT NULL,
    email       text NOT NULL,
    fingerprint bigint NOT NULL,
    count       integer NOT NULL,
    segment     text NOT NULL,
    row         integer NOT NULL,
    reason      text NOT NULL,
    PRIMARY KEY (destination, email)
);
CREATE TABLE runs (
    id          bigserial PRIMARY KEY,
    destination text NOT NULL,
    trigger     text NOT NULL,
    digest      text NOT NULL,
    started_at  double precision NOT NULL,
    ended_at    double precision,
    outcome     text,
    counts      text NOT NULL DEFAULT '{}',
    error       text
);
CREATE INDEX runs_by_destination ON runs (destination, id);
CREATE TABLE rejections (
    run_id      bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    destination text NOT NULL,
    segment     text NOT NULL,
    row         integer NOT NULL,
    reason      text NOT NULL
);
CREATE INDEX rejections_by_run ON rejections (run_id);
-- Replicas sharing this ledger, for spreading destinations fairly between them.
CREATE TABLE replicas (
    id      text PRIMARY KEY,
    seen_at double precision NOT NULL
);
""",
    # 2: see sqlite_schema.py.
    2: """
ALTER TABLE batches ADD COLUMN sends integer NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN unknown_since double precision;
ALTER TABLE rejections ADD COLUMN email text NOT NULL DEFAULT '';
CREATE TABLE removals (
    destination     text NOT NULL,
    email           text NOT NULL,
    first_missed_at double precision,
    sent_at         double precision,
    sends           integer NOT NULL DEFAULT 0,
    PRIMARY KEY (destination, email)
);
""",
    # 3: see sqlite_schema.py.
    3: """
CREATE TABLE forget_salt (
    id   integer PRIMARY KEY CHECK (id = 1),
    salt bytea NOT NULL
);
CREATE TABLE forgotten (
    digest       bytea NOT NULL,
    scope        text NOT NULL,
    forgotten_at double precision NOT NULL,
    PRIMARY KEY (digest, scope)
);
CREATE TABLE erasures (
    destination     text NOT NULL,
    email           text NOT NULL,
    requested_at    double precision NOT NULL,
    first_missed_at double precision,
    sent_at         double precision,
    sends           integer NOT NULL DEFAULT 0,
    PRIMARY KEY (destination, email)
);
""",
    # 4: see sqlite_schema.py.
    4: """
ALTER TABLE acked ADD COLUMN sent_in bigint;
ALTER TABLE attempts ADD COLUMN sent_in bigint;
CREATE TABLE sent_batches (
    id           bigserial PRIMARY KEY,
    destination  text NOT NULL,
    batch_id     bigint NOT NULL,
    run_id       bigint,
    kind         text NOT NULL,
    job_id       text,
    size         integer NOT NULL,
    submitted_at double precision,
    ended_at     double precision NOT NULL,
    outcome      text NOT NULL
);
CREATE INDEX sent_batches_by_destination ON sent_batches (destination, id);
CREATE TABLE departures (
    destination text NOT NULL,
    email       text NOT NULL,
    departed_at double precision NOT NULL,
    how         text NOT NULL CHECK (how IN ('removed', 'kept')),
    PRIMARY KEY (destination, email)
);
CREATE INDEX departures_by_time ON departures (destination, departed_at);
""",
    # 5: see sqlite_schema.py.
    5: """
ALTER TABLE destinations ADD COLUMN audit_export text;
CREATE TABLE drift (
    destination    text PRIMARY KEY,
    audited_at     double precision NOT NULL,
    missing        bigint NOT NULL,
    extra          bigint NOT NULL,
    stale          bigint NOT NULL,
    unacknowledged bigint NOT NULL,
    healed         boolean NOT NULL
);
""",
    # 6: see sqlite_schema.py.
    6: """
ALTER TABLE runs ADD COLUMN read_path text;
""",
    # 7: see sqlite_schema.py (here the constraint is replaced in place).
    7: """
ALTER TABLE destinations ADD COLUMN segment_rows text;
ALTER TABLE departures DROP CONSTRAINT departures_how_check;
ALTER TABLE departures ADD CONSTRAINT departures_how_check
    CHECK (how IN ('removed', 'kept', 'notRemoved'));
""",
}
SCHEMA_VERSION = max(MIGRATIONS)

# Per connection: the run's segment, and a landing table for COPY (which cannot
# skip duplicates itself). UNLOGGED-like by nature: temporary tables skip the WAL.
SNAPSHOT = """
CREATE TEMP TABLE IF NOT EXISTS snapshot_in (
    seq     bigserial PRIMARY KEY,
    email   text NOT NULL,
    raw     bigint NOT NULL,
    vals    bytea NOT NULL,
    segment integer NOT NULL,
    row     integer NOT NULL
);
CREATE TEMP TABLE IF NOT EXISTS snapshot (
    email       text PRIMARY KEY,
    raw         bigint NOT NULL,
    seq         bigint NOT NULL,
    segment     integer NOT NULL,
    row         integer NOT NULL,
    known       boolean NOT NULL,
    stale       boolean NOT NULL,
    acked_raw   bigint,
    fingerprint bigint,
    payload     bytea
);
"""

# PostgreSQL keeps the first row of each email with DISTINCT ON over the arrival order.
# The sort carries keys only: a row's source values stay in `snapshot_in`, found by
# `seq` for the few rows that are stale (carrying them made the sort of a 10M segment
# several times wider). The staged rows are therefore kept until the build is done.
FINALIZE = (
    "INSERT INTO {snapshot} (email, raw, seq, segment, row, known, stale, acked_raw)"
    " SELECT DISTINCT ON (i.email) i.email, i.raw, i.seq, i.segment, i.row,"
    " a.email IS NOT NULL, a.email IS NULL OR a.raw IS DISTINCT FROM i.raw, a.raw"
    " FROM {snapshot}_in i LEFT JOIN acked a ON a.destination = ? AND a.email = i.email"
    " ORDER BY i.email, i.seq"
)
STALE_PAGE = (
    "SELECT s.email, s.raw, i.vals, s.segment, s.row, a.email IS NOT NULL,"
    " a.fingerprint, a.binding"
    " FROM {snapshot} s JOIN {snapshot}_in i ON i.seq = s.seq"
    " LEFT JOIN acked a ON a.destination = ? AND a.email = s.email"
    " WHERE s.stale AND s.fingerprint IS NULL AND s.email > ? ORDER BY s.email LIMIT ?"
)


def migrate(connection: psycopg.Connection) -> None:
    """Apply the missing migrations, one process at a time."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        connection.execute(
            "CREATE TABLE IF NOT EXISTS syncd_schema ("
            " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        row = connection.execute("SELECT coalesce(max(version), 0) FROM syncd_schema").fetchone()
        current = int(row[0]) if row else 0
        if current > SCHEMA_VERSION:
            raise LedgerConflict(
                f"the PostgreSQL ledger was written by a newer syncd (schema {current}; this "
                f"one knows up to {SCHEMA_VERSION}): run that version or a newer one"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            connection.execute(MIGRATIONS[version].encode())
            connection.execute("INSERT INTO syncd_schema (version) VALUES (%s)", (version,))
