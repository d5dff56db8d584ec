"""What a read of the segments must not take for a segment of nobody (whose contacts
would all leave the list): checks on each segment's rows as a read counted them."""

from __future__ import annotations

from syncd.contacts import ContactBuilder
from syncd.errors import SourceInvalid


def no_address_anywhere(segment: str, rows: int, blank: int, builder: ContactBuilder) -> None:
    """A segment none of whose rows has an address is read wrong (a JSON Lines key spelled
    otherwise than the mapping's column: every line has none), not a segment of nobody:
    refused, as a CSV file without the column is."""
    if rows and blank == rows:
        raise SourceInvalid(
            f"segment {segment}: none of its {rows:,} rows has an address in "
            f"{builder.email_column!r} (names are matched exactly); is it the mapping's "
            "column?"
        )
