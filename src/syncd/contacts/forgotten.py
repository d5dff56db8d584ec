"""Addresses syncd was asked to forget, kept only as salted hashes, and the check per row.

`syncd forget EMAIL` erases an address from the ledger but must keep something, or the
next run would send it again from the segment that still holds it. What it keeps is
`digest(salt, address)`: XXH3's 128-bit hash of the address as rows are keyed
(`address_key`), seeded with the ledger's own random 64-bit salt.

Why this hash: the check runs on every row of every segment while anything is forgotten,
and XXH3 costs a quarter of a keyed BLAKE2b there (docs/performance.md). A cryptographic
hash would protect nothing more: whoever holds the ledger holds its salt and can test
guessed addresses against either at millions a second; the salt's only job is that one
table of guesses does not fit every ledger. 128 bits make an accidental match with
another address (a row dropped that should not be) beyond any count of rows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import xxhash

SALT_BYTES = 8
"""XXH3's seed is 64 bits."""
HASH = xxhash.xxh3_128_digest
"""The hash `digest` takes; checks that run on every row call it directly."""


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def digest(salt: bytes, address: str) -> bytes:
    """The hash kept for `address`, which must be keyed as rows are (`address_key`)."""
    return HASH(address.encode(), int.from_bytes(salt, "big"))


@dataclass(frozen=True, slots=True)
class Forgotten:
    """The forgotten addresses that apply to one destination, as a set of digests."""

    salt: bytes = b""
    digests: frozenset[bytes] = frozenset()
    seed: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", int.from_bytes(self.salt, "big"))

    def __bool__(self) -> bool:
        return bool(self.digests)

    def holds(self, address: str) -> bool:
        """Whether a keyed address is forgotten: one hash and one set lookup."""
        return HASH(address.encode(), self.seed) in self.digests


NOTHING_FORGOTTEN = Forgotten()
