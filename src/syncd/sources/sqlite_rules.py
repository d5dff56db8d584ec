"""What a SQLite source query may do: read. An authorizer for `set_authorizer`."""

from __future__ import annotations

import sqlite3

_READS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})
# Functions that reach outside the database (the CLI's fileio, extensions) or its memory.
REFUSED_FUNCTIONS = frozenset(
    {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer", "lsdir", "zipfile"}
)
_ACTIONS = {
    sqlite3.SQLITE_ATTACH: "ATTACH",
    sqlite3.SQLITE_DETACH: "DETACH",
    sqlite3.SQLITE_INSERT: "INSERT",
    sqlite3.SQLITE_UPDATE: "UPDATE",
    sqlite3.SQLITE_DELETE: "DELETE",
    sqlite3.SQLITE_PRAGMA: "PRAGMA",
    sqlite3.SQLITE_TRANSACTION: "a transaction statement",
    sqlite3.SQLITE_SAVEPOINT: "SAVEPOINT",
    sqlite3.SQLITE_ALTER_TABLE: "ALTER TABLE",
    sqlite3.SQLITE_ANALYZE: "ANALYZE",
    sqlite3.SQLITE_REINDEX: "REINDEX",
    sqlite3.SQLITE_CREATE_VTABLE: "CREATE VIRTUAL TABLE",
    sqlite3.SQLITE_DROP_VTABLE: "DROP VIRTUAL TABLE",
}


class ReadOnly:
    """Allows reading only; remembers the first refusal, to name it in the error."""

    def __init__(self) -> None:
        self.refused: str | None = None

    def decide(self, action: int, _: str | None, detail: str | None, *__: str | None) -> int:
        """The authorizer: (action, two details, database, trigger or view) -> verdict."""
        if action in _READS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:  # detail: the function's name
            if (detail or "").lower() not in REFUSED_FUNCTIONS:
                return sqlite3.SQLITE_OK
            what = f"the function {detail}()"
        else:
            what = _ACTIONS.get(action) or _create_or_drop(action)
        self.refused = self.refused or what
        return sqlite3.SQLITE_DENY


def _create_or_drop(action: int) -> str:
    # CREATE_* and DROP_* (tables, indexes, views, triggers, temporary or not): 1 to 17.
    if sqlite3.SQLITE_CREATE_INDEX <= action <= sqlite3.SQLITE_CREATE_VIEW:
        return "CREATE"
    if sqlite3.SQLITE_DROP_INDEX <= action <= sqlite3.SQLITE_DROP_VIEW:
        return "DROP"
    return f"action {action}"
