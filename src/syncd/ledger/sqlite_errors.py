"""What SQLite's errors mean for syncd: each becomes an error that says what to do.

A damaged file, a full disk, a file deleted under a running process and a busy database
are different problems with different fixes; none may surface as a bare traceback or as
SQLite's own confusing follow-up ("cannot rollback - no transaction is active").
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from syncd.errors import LedgerCorrupt, LedgerUnavailable, SyncdError

_DAMAGED = ("malformed", "not a database", "corrupt", "no such table")


def translate(error: sqlite3.Error, path: str) -> SyncdError:
    text = str(error).strip() or type(error).__name__
    lowered = text.lower()
    if "disk is full" in lowered or "database or disk is full" in lowered:
        return LedgerUnavailable(
            f"ledger {path}: the disk is full; free space on its volume (nothing was lost: "
            "the last transaction was rolled back)"
        )
    if isinstance(error, sqlite3.DatabaseError) and any(word in lowered for word in _DAMAGED):
        return LedgerCorrupt(
            f"ledger {path} is damaged or was replaced ({text}): restore it from a backup "
            "and restart syncd, or move it aside and restart to start afresh (every contact "
            "is then sent once more, and syncd audit can find leavers)"
        )
    if "unable to open" in lowered:
        return LedgerUnavailable(
            f"ledger {path} cannot be opened ({text}): was it deleted or moved while syncd "
            "was running? Restore it, or restart syncd"
        )
    if "locked" in lowered or "busy" in lowered:
        return LedgerUnavailable(f"ledger {path} is busy: {text}")
    return LedgerUnavailable(f"ledger {path}: {text}")


@contextmanager
def translated(path: str, on_damage: Callable[[str], None]) -> Iterator[None]:
    """SQLite errors inside become syncd errors; damage is reported to `on_damage`."""
    try:
        yield
    except sqlite3.Error as error:
        problem = translate(error, path)
        if isinstance(problem, LedgerCorrupt):
            on_damage(problem.message)
        raise problem from None
