"""The SQLite ledger's schema, versioned; applied at open."""

from __future__ import annotations

import sqlite3

from syncd.errors import LedgerConflict

MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE destinations (
    name             TEXT PRIMARY KEY,
    epoch            INTEGER NOT NULL DEFAULT 0,
    -- custom field name -> [id, type] as last used; a changed id bumps the generation
    fields           TEXT NOT NULL DEFAULT '{}',
    field_generation INTEGER NOT NULL DEFAULT 0,
    -- what the sources were (file contents, definition, binding) when SendGrid was last
    -- found or left equal to them; cleared before any run that may change SendGrid
    in_sync          TEXT
);
-- What SendGrid acknowledged: the fingerprint of the payload last applied, the
-- binding (list id, custom field ids) it was encoded with, and the fingerprint of the
-- source values it was built from (`raw`: equal values need no rebuilding).
CREATE TABLE acked (
    destination TEXT NOT NULL,
    email       TEXT NOT NULL,
    fingerprint INTEGER NOT NULL,
    binding     INTEGER NOT NULL,
    raw         INTEGER NOT NULL,
    acked_at    REAL NOT NULL,
    PRIMARY KEY (destination, email)
) WITHOUT ROWID;
-- The outbox: a batch is recorded before it is sent, its job id as soon as it is known.
CREATE TABLE batches (
    id           INTEGER PRIMARY KEY,
    destination  TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('upsert', 'remove', 'delete')),
    state        TEXT NOT NULL CHECK (state IN ('prepared', 'submitted')),
    list_id      TEXT NOT NULL,
    job_id       TEXT,
    created_at   REAL NOT NULL,
    submitted_at REAL,
    run_id       INTEGER
);
CREATE INDEX batches_by_destination ON batches (destination, id);
CREATE TABLE outbox_items (
    batch_id    INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    destination TEXT NOT NULL,
    email       TEXT NOT NULL,
    fingerprint INTEGER NOT NULL,
    binding     INTEGER NOT NULL,
    raw         INTEGER NOT NULL,
    body        BLOB NOT NULL,
    segment     TEXT NOT NULL,
    row         INTEGER NOT NULL,
    rejected    TEXT,
    PRIMARY KEY (batch_id, email)
) WITHOUT ROWID;
CREATE UNIQUE INDEX outbox_items_by_contact ON outbox_items (destination, email);
-- Contacts SendGrid rejected, counted per payload, for the retry budget.
CREATE TABLE attempts (
    destination TEXT NOT NULL,
    email       TEXT NOT NULL,
    fingerprint INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    segment     TEXT NOT NULL,
    row         INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (destination, email)
) WITHOUT ROWID;
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    destination TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    digest      TEXT NOT NULL,
    started_at  REAL NOT NULL,
    ended_at    REAL,
    outcome     TEXT,
    counts      TEXT NOT NULL DEFAULT '{}',
    error       TEXT
);
CREATE INDEX runs_by_destination ON runs (destination, id);
CREATE TABLE rejections (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    destination TEXT NOT NULL,
    segment     TEXT NOT NULL,
    row         INTEGER NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX rejections_by_run ON rejections (run_id);
""",
    # 2: SendGrid as it really behaves. A batch counts its sends (a cap ends hot loops) and
    # when SendGrid first did not know its job; a leaver's removal has a state of its own
    # (not found yet, sent and awaiting confirmation); rejections keep the address.
    2: """
ALTER TABLE batches ADD COLUMN sends INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN unknown_since REAL;
ALTER TABLE rejections ADD COLUMN email TEXT NOT NULL DEFAULT '';
CREATE TABLE removals (
    destination     TEXT NOT NULL,
    email           TEXT NOT NULL,
    first_missed_at REAL,
    sent_at         REAL,
    sends           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (destination, email)
) WITHOUT ROWID;
""",
    # 3: erasure (`syncd forget`). Forgotten addresses are kept only as salted hashes, with
    # the destination they apply to ('' for every one); the salt is the ledger's own. An
    # erasure in SendGrid keeps its address only until SendGrid's search confirms the
    # contact is gone; it is carried out through the outbox of `destination` (its API key).
    3: """
CREATE TABLE forget_salt (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    salt BLOB NOT NULL
);
CREATE TABLE forgotten (
    digest       BLOB NOT NULL,
    scope        TEXT NOT NULL,
    forgotten_at REAL NOT NULL,
    PRIMARY KEY (digest, scope)
) WITHOUT ROWID;
CREATE TABLE erasures (
    destination     TEXT NOT NULL,
    email           TEXT NOT NULL,
    requested_at    REAL NOT NULL,
    first_missed_at REAL,
    sent_at         REAL,
    sends           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (destination, email)
) WITHOUT ROWID;
""",
    # 4: what `syncd explain` tells. An acknowledged contact (or a refused one) keeps the
    # ended batch that carried it; ended batches keep their job and outcome for a while;
    # contacts that left the list (or the ledger, with onLeave: keep) are remembered for a
    # while.
    4: """
ALTER TABLE acked ADD COLUMN sent_in INTEGER;
ALTER TABLE attempts ADD COLUMN sent_in INTEGER;
CREATE TABLE sent_batches (
    id           INTEGER PRIMARY KEY,
    destination  TEXT NOT NULL,
    batch_id     INTEGER NOT NULL,
    run_id       INTEGER,
    kind         TEXT NOT NULL,
    job_id       TEXT,
    size         INTEGER NOT NULL,
    submitted_at REAL,
    ended_at     REAL NOT NULL,
    outcome      TEXT NOT NULL
);
CREATE INDEX sent_batches_by_destination ON sent_batches (destination, id);
CREATE TABLE departures (
    destination TEXT NOT NULL,
    email       TEXT NOT NULL,
    departed_at REAL NOT NULL,
    how         TEXT NOT NULL CHECK (how IN ('removed', 'kept')),
    PRIMARY KEY (destination, email)
) WITHOUT ROWID;
CREATE INDEX departures_by_time ON departures (destination, departed_at);
""",
    # 5: the audit (reading the real list back). The export an audit waits for, kept so a
    # restart polls the same one instead of starting another; and what the last audit of
    # each destination found (counts only, never addresses), for the status after a restart.
    5: """
ALTER TABLE destinations ADD COLUMN audit_export TEXT;
CREATE TABLE drift (
    destination    TEXT PRIMARY KEY,
    audited_at     REAL NOT NULL,
    missing        INTEGER NOT NULL,
    extra          INTEGER NOT NULL,
    stale          INTEGER NOT NULL,
    unacknowledged INTEGER NOT NULL,
    healed         INTEGER NOT NULL
) WITHOUT ROWID;
""",
    # 6: how each run read its segments (known, verified, staged), for the history.
    6: """
ALTER TABLE runs ADD COLUMN read_path TEXT;
""",
    # 7: a leaver syncd gave up taking off the list departs as `notRemoved` (it departed
    # as `removed`, and `syncd explain` said it was taken off). SQLite cannot change a
    # CHECK constraint: the table is rebuilt. And how many rows each segment had when it
    # was last read whole (JSON, name -> rows), so that a segment coming back empty holds
    # its leavers' removal back whatever share of the list they are.
    7: """
ALTER TABLE destinations ADD COLUMN segment_rows TEXT;
CREATE TABLE departures_7 (
    destination TEXT NOT NULL,
    email       TEXT NOT NULL,
    departed_at REAL NOT NULL,
    how         TEXT NOT NULL CHECK (how IN ('removed', 'kept', 'notRemoved')),
    PRIMARY KEY (destination, email)
) WITHOUT ROWID;
INSERT INTO departures_7 SELECT destination, email, departed_at, how FROM departures;
DROP TABLE departures;
ALTER TABLE departures_7 RENAME TO departures;
CREATE INDEX departures_by_time ON departures (destination, departed_at);
""",
}
SCHEMA_VERSION = max(MIGRATIONS)

SNAPSHOT = """
CREATE TEMP TABLE IF NOT EXISTS snapshot_in (
    seq     INTEGER PRIMARY KEY,
    email   TEXT NOT NULL,
    raw     INTEGER NOT NULL,
    vals    BLOB NOT NULL,
    segment INTEGER NOT NULL,
    row     INTEGER NOT NULL
);
CREATE TEMP TABLE IF NOT EXISTS snapshot (
    email       TEXT PRIMARY KEY,
    raw         INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    vals        BLOB,
    segment     INTEGER NOT NULL,
    row         INTEGER NOT NULL,
    known       INTEGER NOT NULL,
    stale       INTEGER NOT NULL,
    acked_raw   INTEGER,
    fingerprint INTEGER,
    payload     BLOB
) WITHOUT ROWID;
"""


def migrate(connection: sqlite3.Connection, *, name: str = ":memory:") -> None:
    """Bring the ledger `name` (its path, for messages) to `SCHEMA_VERSION`."""
    current = connection.execute("PRAGMA user_version").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise LedgerConflict(
            f"ledger {name} was written by a newer syncd (schema {current}; this one knows "
            f"up to {SCHEMA_VERSION}): run that version or a newer one"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with connection:
            connection.executescript(
                f"BEGIN;\n{MIGRATIONS[version]}\nPRAGMA user_version = {version};\nCOMMIT;"
            )
