"""The base of every group of ledger statements: written once, for SQLite and PostgreSQL.

Both speak `ON CONFLICT`, `RETURNING` and `FILTER`; the placeholder, the name of the
per-connection snapshot tables and the one sort-and-deduplicate statement differ. A
group of statements (`SqlText`'s parts, `ForgetSql`, `AuditSql`) is a frozen dataclass
of this one, whose every field is rewritten at construction for the backend it is
given.
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
