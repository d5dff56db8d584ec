"""Upsert bodies within SendGrid's limits: ≤ 30,000 contacts and ≤ 6 MB a request."""

from __future__ import annotations

from collections.abc import Sequence

MAX_CONTACTS = 30_000
MAX_BODY_BYTES = 6_000_000


def upsert_body(list_id: str, contacts: Sequence[bytes]) -> bytes:
    """The request body, assembled from already-encoded contacts without re-encoding them."""
    return b'{"list_ids":["%s"],"contacts":[%s]}' % (list_id.encode(), b",".join(contacts))


class Packer:
    """Greedy packing in arrival order: a batch closes when the next contact would not fit."""

    def __init__(
        self, list_id: str, *, max_contacts: int = MAX_CONTACTS, max_bytes: int = MAX_BODY_BYTES
    ) -> None:
        self.max_contacts = max_contacts
        self.max_bytes = max_bytes
        self._overhead = len(upsert_body(list_id, []))
        self._size = self._overhead
        self._count = 0

    def fits(self, encoded_size: int) -> bool:
        separator = 1 if self._count else 0
        return (
            self._count < self.max_contacts
            and self._size + separator + encoded_size <= self.max_bytes
        )

    def add(self, encoded_size: int) -> None:
        if self._overhead + encoded_size > self.max_bytes:
            raise ValueError("a single contact is larger than a whole request may be")
        self._size += (1 if self._count else 0) + encoded_size
        self._count += 1

    def reset(self) -> None:
        self._size = self._overhead
        self._count = 0

    @property
    def count(self) -> int:
        return self._count
