"""Without the postgres extra (no psycopg), PostgreSQL is refused with what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncd.destinations import Segment
from syncd.errors import SourceInvalid
from syncd.sources import open_segment
from tests.policy import allowing

WITHOUT_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; "  # as if it were not installed
    "from syncd.cli import main; sys.exit(main(sys.argv[1:]))"
)


def syncd_without_psycopg(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    env["SYNCD_DESTINATIONS"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PSYCOPG, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_postgresql_ledger_without_the_driver_says_to_install_the_extra(tmp_path: Path) -> None:
    result = syncd_without_psycopg(
        tmp_path, "status", "--state", "postgresql://syncd@127.0.0.1:5432/syncd"
    )
    assert result.returncode == 2
    assert "install syncd[postgres]" in result.stderr
    assert "Traceback" not in result.stderr


def test_sqlite_and_files_need_no_driver(tmp_path: Path) -> None:
    result = syncd_without_psycopg(tmp_path, "status", "--state", str(tmp_path / "state.db"))
    assert result.returncode == 0, result.stderr


def test_a_postgresql_source_without_the_driver_is_refused_with_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "syncd.sources.postgres", raising=False)
    monkeypatch.setenv("WAREHOUSE_DSN", "postgresql://reader@127.0.0.1:5432/shop")
    segment = Segment.model_validate(
        {
            "name": "buyers",
            "source": {"postgres": {"dsn": {"env": "WAREHOUSE_DSN"}, "query": "SELECT 1"}},
        }
    )
    with pytest.raises(SourceInvalid, match=r"install syncd\[postgres\]"):
        open_segment(segment, base_dir=tmp_path, allowlists=allowing(tmp_path))
