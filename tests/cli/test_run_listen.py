"""`syncd run --listen`: the admin address on the command line, held to the same rules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    env |= {"SYNCD_STATE": str(tmp_path / "state.db"), "SYNCD_DESTINATIONS": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "syncd", "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("listen", "said"),
    [
        ("0.0.0.0:9108", "beyond loopback without SYNCD_ADMIN_TOKEN"),
        ("nonsense", "should be HOST:PORT"),
    ],
)
def test_a_listen_address_that_cannot_work_ends_in_one_line_and_exit_2(
    tmp_path: Path, listen: str, said: str
) -> None:
    result = run(tmp_path, "--listen", listen)
    assert result.returncode == 2
    assert said in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
