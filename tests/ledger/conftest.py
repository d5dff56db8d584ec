"""One ledger suite, every backend: each test runs against each `ledger` parameter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.ledger import Ledger, open_ledger


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        dsn: str = request.getfixturevalue("postgres_dsn")
        return dsn
    return str(tmp_path / "state.db")


@pytest.fixture
def ledger(ledger_state: str) -> Iterator[Ledger]:
    opened = open_ledger(ledger_state)
    yield opened
    opened.close()
