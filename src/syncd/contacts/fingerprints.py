"""Fingerprints as the ledger stores them: 64-bit xxh3 hashes, signed."""

from __future__ import annotations

import xxhash

SIGN = 1 << 63
WRAP = 1 << 64


def to_signed64(value: int) -> int:
    """Unsigned 64-bit hash → signed, so SQLite and PostgreSQL store it as a plain integer."""
    return value - WRAP if value >= SIGN else value


def fingerprint(payload: bytes) -> int:
    return to_signed64(xxhash.xxh3_64_intdigest(payload))
