"""The audit's scratch space: a temporary SQLite file, so memory stays flat at any size.

Four sides are streamed in, each keyed by email, and compared with SQL:

- `held`: the export, what the list holds (email, contact id, fields as SendGrid shows them);
- `seg`: the segment as a run reads it, the first row of an email winning;
- `acked`: what the ledger says SendGrid acknowledged, and when;
- `excluded`: contacts an audit leaves out (settling jobs, open batches, recent departures,
  contacts refused for good).

The findings go to `drift`, one row per contact found drifted, for the examples and the heal.
The file lives in a private (0700) directory of the system's temporary directory and is
deleted when the audit ends. It holds personal data: one left behind by a process that was
killed is deleted by the next audit on the host (the directory names the process).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

DriftKind = Literal["missing", "extra", "stale", "unacknowledged"]
KINDS: tuple[DriftKind, ...] = ("missing", "extra", "stale", "unacknowledged")

SCHEMA = """
CREATE TABLE held (email TEXT PRIMARY KEY, contact_id TEXT NOT NULL, fields TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE seg (
    email TEXT PRIMARY KEY, raw INTEGER NOT NULL, vals BLOB NOT NULL,
    segment INTEGER NOT NULL, row INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE acked (email TEXT PRIMARY KEY, acked_at REAL NOT NULL) WITHOUT ROWID;
-- Landing tables, appended to as read (random-order inserts into a large B-tree cost
-- several times more), then sorted once into `held` and `seg`: see `sort`.
CREATE TABLE held_in (email TEXT NOT NULL, contact_id TEXT NOT NULL, fields TEXT NOT NULL);
CREATE TABLE seg_in (
    email TEXT NOT NULL, raw INTEGER NOT NULL, vals BLOB NOT NULL,
    segment INTEGER NOT NULL, row INTEGER NOT NULL
);
CREATE TABLE excluded (email TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE drift (
    email TEXT PRIMARY KEY, kind TEXT NOT NULL, contact_id TEXT NOT NULL DEFAULT '',
    fingerprint INTEGER, raw INTEGER
) WITHOUT ROWID;
"""
PAGE = 5_000
PREFIX = "syncd-audit-"
_LEFT_BEHIND = re.compile(rf"^{PREFIX}(\d+)-")
_OURS: set[str] = set()
"""This process's workspaces in use (a container's syncd is always pid 1: a directory with
our pid that is not one of these was left by an earlier process with the same pid)."""


class Workspace:
    """One audit's scratch database; use as a context manager (the file is removed)."""

    def __init__(self) -> None:
        remove_left_behind()
        self._dir = tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-")
        self.directory = Path(self._dir.name)
        _OURS.add(self.directory.name)
        self.db = sqlite3.connect(self.directory / "audit.sqlite3", check_same_thread=False)
        self.db.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA temp_store = FILE;"
            "PRAGMA cache_size = -4000;" + SCHEMA
        )

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()
        _OURS.discard(self.directory.name)

    # -- filling -------------------------------------------------------------------------
    def add_held(self, rows: Iterable[tuple[str, str, str]]) -> None:
        with self.db:
            self.db.executemany("INSERT INTO held_in VALUES (?, ?, ?)", rows)

    def add_segment(self, rows: Iterable[tuple[str, int, bytes, int, int]]) -> None:
        """Rows in read order (see `sort`)."""
        with self.db:
            self.db.executemany("INSERT INTO seg_in VALUES (?, ?, ?, ?, ?)", rows)

    def sort(self) -> None:
        """Everything read, sorted once into its keyed table: the first row of an email
        wins in the segment, as in a run; a contact listed twice (several files) counts
        once."""
        with self.db:
            # Each landing table dropped once sorted: its pages go to the free list, and
            # the next table reuses them (the file holds each side about twice, not 4x).
            self.db.execute(
                "INSERT OR IGNORE INTO seg SELECT email, raw, vals, segment, row FROM seg_in"
                " ORDER BY email, rowid"
            )
            self.db.execute("DROP TABLE seg_in")
            self.db.execute(
                "INSERT OR IGNORE INTO held SELECT email, contact_id, fields FROM held_in"
                " ORDER BY email, rowid"
            )
            self.db.execute("DROP TABLE held_in")

    def add_acked(self, rows: Iterable[tuple[str, float]]) -> None:
        with self.db:
            self.db.executemany("INSERT OR IGNORE INTO acked VALUES (?, ?)", rows)

    def exclude(self, emails: Iterable[str]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO excluded VALUES (?)", ((email,) for email in emails)
            )

    def exclude_settling(self, since: float) -> None:
        """Contacts of jobs completed after `since`: SendGrid may not export them yet."""
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO excluded SELECT email FROM acked WHERE acked_at >= ?",
                (since,),
            )

    # -- comparing -----------------------------------------------------------------------
    def find_extra(self) -> int:
        """Contacts on the list and not in the segment, with the id to prune them by; none
        (`''`) where another row of the export carries the same id: one of the two rows
        is not what SendGrid holds, and the id may be a member's."""
        with self.db:
            found = self.db.execute(
                "INSERT INTO drift (email, kind, contact_id)"
                " SELECT h.email, 'extra', h.contact_id FROM held h"
                " WHERE NOT EXISTS (SELECT 1 FROM seg s WHERE s.email = h.email)"
                " AND NOT EXISTS (SELECT 1 FROM excluded x WHERE x.email = h.email)"
            ).rowcount
            if found:
                self.db.execute(
                    "UPDATE drift SET contact_id = '' WHERE kind = 'extra' AND contact_id IN"
                    " (SELECT contact_id FROM held WHERE contact_id IN (SELECT contact_id"
                    "   FROM drift WHERE kind = 'extra' AND contact_id <> '')"
                    "  GROUP BY contact_id HAVING count(*) > 1)"
                )
            return found

    def segment_page(self, after: str) -> list[tuple[str, int, bytes, str | None, bool]]:
        """A page of segment contacts not left out: (email, raw, source values, held
        fields or None when not on the list, acknowledged), in email order after `after`."""
        return self.db.execute(
            "SELECT s.email, s.raw, s.vals, h.fields,"
            " EXISTS (SELECT 1 FROM acked a WHERE a.email = s.email)"
            " FROM seg s LEFT JOIN held h ON h.email = s.email"
            " WHERE s.email > ?"
            " AND NOT EXISTS (SELECT 1 FROM excluded x WHERE x.email = s.email)"
            " ORDER BY s.email LIMIT ?",
            (after, PAGE),
        ).fetchall()

    def add_extra(self, rows: Iterable[tuple[str, str]]) -> None:
        """(email, contact id) of contacts found on the list and not in the segment."""
        with self.db:
            self.db.executemany(
                "INSERT INTO drift (email, kind, contact_id) VALUES (?, 'extra', ?)", rows
            )

    def add_drift(self, rows: Iterable[tuple[str, DriftKind, int | None, int | None]]) -> None:
        """(email, kind, fingerprint, raw) of contacts found stale or unacknowledged."""
        with self.db:
            self.db.executemany(
                "INSERT INTO drift (email, kind, fingerprint, raw) VALUES (?, ?, ?, ?)", rows
            )

    # -- reading the findings -------------------------------------------------------------
    def counts(self) -> dict[DriftKind, int]:
        found = dict(self.db.execute("SELECT kind, count(*) FROM drift GROUP BY kind").fetchall())
        return {kind: int(found.get(kind, 0)) for kind in KINDS}

    def sizes(self) -> tuple[int, int]:
        """(contacts on the list, distinct profiles in the segment)."""
        held = self.db.execute("SELECT count(*) FROM held").fetchone()[0]
        seg = self.db.execute("SELECT count(*) FROM seg").fetchone()[0]
        return int(held), int(seg)

    def excluded_count(self) -> int:
        """Contacts left out that are on the list or in the segment."""
        count = self.db.execute(
            "SELECT count(*) FROM excluded x WHERE EXISTS (SELECT 1 FROM held h"
            " WHERE h.email = x.email) OR EXISTS (SELECT 1 FROM seg s WHERE s.email = x.email)"
        ).fetchone()[0]
        return int(count)

    def examples(self, kind: DriftKind, limit: int) -> list[str]:
        rows = self.db.execute(
            "SELECT email FROM drift WHERE kind = ? ORDER BY email LIMIT ?", (kind, limit)
        )
        return [row[0] for row in rows]

    def pages(self, kind: DriftKind) -> Iterator[list[tuple[str, str, int | None, int | None]]]:
        """(email, contact id, fingerprint, raw) of every contact of a kind, by pages."""
        after = ""
        while True:
            page = self.db.execute(
                "SELECT email, contact_id, fingerprint, raw FROM drift"
                " WHERE kind = ? AND email > ? ORDER BY email LIMIT ?",
                (kind, after, PAGE),
            ).fetchall()
            if not page:
                return
            after = page[-1][0]
            yield page


def remove_left_behind(root: str | None = None) -> list[str]:
    """Delete the workspaces of audit processes that no longer run (killed mid-audit)."""
    removed = []
    base = Path(root or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for path in base.iterdir():
            match = _LEFT_BEHIND.match(path.name)
            if match is None or path.name in _OURS:
                continue
            pid = int(match.group(1))
            if pid != os.getpid() and _alive(pid):
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: not ours to judge
    return True
