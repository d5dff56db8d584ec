"""The in-sync record: what SendGrid was last known to equal, kept in the ledger as text.

Written only after a clean run of file sources; a later run whose definition, files and
binding are the same reads nothing at all (see `reading`). The text form is
`definition:files:binding:profiles:rows:forgotten`; records written before erasure existed
lack the last field and read as 0 forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass

_SEPARATOR = ":"


@dataclass(frozen=True)
class InSyncRecord:
    definition: str
    """The destination file's digest."""
    files: str
    """The source files' print (`sources.files_print`)."""
    binding: int
    """The digest of the SendGrid binding (list, field ids and their generation)."""
    profiles: int
    rows: int
    forgotten: int = 0

    def encode(self) -> str:
        return _SEPARATOR.join(
            str(part)
            for part in (
                self.definition,
                self.files,
                self.binding,
                self.profiles,
                self.rows,
                self.forgotten,
            )
        )

    @classmethod
    def parse(cls, text: str | None) -> InSyncRecord | None:
        """None for no record, or one this syncd cannot read (then nothing is known)."""
        if not text:
            return None
        parts = text.split(_SEPARATOR)
        if len(parts) not in (5, 6):
            return None
        try:
            numbers = [int(p) for p in parts[2:]]
        except ValueError:
            return None
        return cls(parts[0], parts[1], *numbers)

    def same_sources(self, definition: str, files: str | None) -> bool:
        """The same destination file and the same source files' bytes."""
        return self.definition == definition and self.files == files
