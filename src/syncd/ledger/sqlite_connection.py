"""How a process reaches the SQLite ledger: a configured connection, and the lock file beside it.

A connection is opened from a `file:` URI with every special character escaped (a `#`
or `?` in a path must not move the database away from its lock), in the mode the caller
may use: only the first open may create the file. The lock file `<file>.lock` is what
the writing process holds for its lifetime (`SqliteLedger`); it also carries what that
process announced, where the CLI finds its admin API.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from syncd.ledger.sqlite_schema import migrate


def _uri(path: str, *, mode: str) -> str:
    """`path` as SQLite reads a URI: absolute, every special character escaped. `mode` ro,
    rw or rwc: only the first open may create the file, so a ledger deleted under a running
    process is not silently replaced by an empty one."""
    if path == ":memory:":
        return "file::memory:"
    return f"{Path(path).absolute().as_uri()}?mode={mode}"


def connect(path: str, *, mode: str = "rw") -> sqlite3.Connection:
    """A configured connection; SQLite's errors are the caller's to translate."""
    connection = sqlite3.connect(
        _uri(path, mode=mode), uri=True, isolation_level=None, check_same_thread=False, timeout=30
    )
    try:
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA temp_store = FILE")
        if mode != "ro":
            connection.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        connection.close()
        raise
    return connection


def empty() -> sqlite3.Connection:
    """A ledger in memory with nothing recorded, for readers of a ledger not yet written."""
    connection = connect(":memory:")
    migrate(connection)
    return connection


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def read_announcement(path: Path) -> dict[str, Any] | None:
    """What the process holding the ledger at `path` announced (`announce`), if anything.
    A stale file (its process gone) may still hold one: the caller checks the daemon."""
    try:
        lock = lock_path(path)
        if not lock.is_file():  # never open a FIFO planted there
            return None
        lines = lock.read_text(encoding="utf-8").splitlines()
        record = json.loads(lines[1]) if len(lines) > 1 else None
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("admin"), str) else None
