"""Where the ledger is (`SYNCD_STATE`): a SQLite file or a PostgreSQL URL, told apart by one
rule (`syncd.settings.is_postgres_url`) that every reader of the location follows: which
ledger opens, whether a host token sits beside it, what identifies it, and what the CLI
masks as a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncd.ledger import open_ledger
from syncd.ledger.identity import ledger_identity
from syncd.ledger.sqlite import SqliteLedger
from syncd.serving.host_token import host_token_path
from syncd.settings import Settings

URLS = ["postgresql://syncd:pw@db:5432/syncd", "postgres://syncd@db/syncd?sslmode=require"]


@pytest.mark.parametrize("url", URLS)
def test_a_postgres_url_is_no_file_for_any_reader(url: str) -> None:
    settings = Settings(state=url)

    assert settings.ledger_file is None
    assert host_token_path(url) is None
    # Its identity leaves out the user and password: the same database either way.
    assert ledger_identity(url) == ledger_identity(url.replace("syncd:pw@", "other@"))


@pytest.mark.parametrize("name", ["state.db", "odd:name.db", "with space.db"])
def test_a_file_path_is_a_sqlite_file_for_every_reader(tmp_path: Path, name: str) -> None:
    state = str(tmp_path / name)
    settings = Settings(state=state)

    assert settings.ledger_file == Path(state)
    assert host_token_path(state) == tmp_path / f"{name}.admin-token"
    ledger = open_ledger(state)
    try:
        assert isinstance(ledger, SqliteLedger)
    finally:
        ledger.close()
    assert Path(state).exists()


@pytest.mark.parametrize("state", ["sqlite:///var/lib/syncd/state.db", "http://db/x"])
def test_another_scheme_is_refused_rather_than_opened_as_a_file_of_that_name(state: str) -> None:
    with pytest.raises(ValueError, match=r"not a (sqlite|http):// URL"):
        Settings(state=state)
