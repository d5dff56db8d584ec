"""The ledger fixtures of tests/ledger, for the erasure tests: each backend."""

from __future__ import annotations

from tests.ledger.conftest import ledger, ledger_state

__all__ = ["ledger", "ledger_state"]
