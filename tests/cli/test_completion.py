"""`syncd completion`: bash completes commands and options from the real parsers."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

SYNCD = [sys.executable, "-m", "syncd"]


def script(shell: str) -> str:
    result = subprocess.run(
        [*SYNCD, "completion", shell], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout


def complete_in_bash(line: str) -> list[str]:
    words = line.split(" ")
    program = f"""
{script("bash")}
COMP_WORDS=({" ".join(words)}); COMP_CWORD={len(words) - 1}
COMP_LINE="{line}"; COMP_POINT={len(line)}
_shtab_syncd syncd "{words[-1]}" "{words[-2]}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    result = subprocess.run(
        ["bash", "--norc", "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.split()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completes_commands_and_their_options() -> None:
    assert "status" in complete_in_bash("syncd sta")
    assert "history" in complete_in_bash("syncd hi")
    assert "--allow-removals" in complete_in_bash("syncd sync --allow")
    assert complete_in_bash("syncd status --output ") == ["text", "json"]


def test_zsh_gets_a_completion_function_for_syncd() -> None:
    assert script("zsh").startswith("#compdef syncd")
