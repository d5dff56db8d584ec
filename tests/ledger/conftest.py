"""One ledger suite, every backend: each test runs against each `ledger` parameter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncd.ledger import Ledger, open_ledger


@pytest.fixture(params=["sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    opened = open_ledger(str(tmp_path / "state.db"))
    yield opened
    opened.close()
