"""The `syncd` program keeps its start-up heap out of the cyclic collector's passes; `main`
called from another program (the tests, an embedding) leaves that program's heap alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

THEN_FROZEN = "; import gc; print('exit', code, 'frozen', gc.get_freeze_count())"
CALLS = {
    "the program": "import sys; sys.argv = ['syncd', *sys.argv[1:]]; from syncd.cli import entry; "
    "code = entry()",
    "main in a caller": "import sys; from syncd.cli import main; code = main(sys.argv[1:])",
}


def status_through(call: str, tmp_path: Path) -> tuple[int, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    env["SYNCD_DESTINATIONS"] = str(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CALLS[call] + THEN_FROZEN,
            "status",
            "--state",
            str(tmp_path / "s.db"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    words = done.stdout.split()
    assert words[-4::2] == ["exit", "frozen"], done.stdout + done.stderr
    return int(words[-3]), int(words[-1])


@pytest.mark.parametrize("call", sorted(CALLS))
def test_only_the_program_freezes_its_heap_and_both_run_the_command(
    tmp_path: Path, call: str
) -> None:
    code, frozen = status_through(call, tmp_path)
    assert code == 0
    if call == "the program":
        assert frozen > 10_000  # every module, model and setting loaded at start-up
    else:
        assert frozen == 0


def test_a_local_sync_does_not_import_the_admin_server_or_the_status_machine() -> None:
    """Their imports (aiohttp's server side, the pages, the status shapes) were a tenth of
    the CPU of a `syncd sync` that has nothing to send."""
    probe = (
        "import sys, syncd.cli.syncing, syncd.cli.local, syncd.cli.remote; "
        "print(sorted({m.split('.')[1] for m in sys.modules "
        "if m.startswith(('syncd.serving', 'syncd.scheduling', 'syncd.daemon'))}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("command", [["schema"], ["status", "--output", "json"]])
def test_a_reader_that_goes_away_ends_the_program_quietly(
    command: list[str], tmp_path: Path
) -> None:
    # `syncd status --output json | head`: the pipe closes before syncd writes.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCD_")}
    env["SYNCD_DESTINATIONS"] = str(tmp_path)
    env["SYNCD_STATE"] = str(tmp_path / "state.db")
    process = subprocess.Popen(
        [sys.executable, "-m", "syncd", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()
    code = process.wait(timeout=60)
    err = process.stderr.read().decode()
    process.stderr.close()
    assert "Traceback" not in err, err
    assert "BrokenPipeError" not in err, err
    assert code == 141
