"""A source with one huge line is refused after reading about one line's limit of it.

The files are sparse (400 MB of zero bytes that take no disk): a single 400 MB line, the
case that once took a gigabyte of memory. Each read runs in its own process, whose peak
resident memory is compared with the same process reading a one-line file. The peak is
VmHWM, the process image's own: getrusage's maxrss keeps the peak of the forking parent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SIZE = 400 * 1024 * 1024
MEASURE = """
import re, sys
from pathlib import Path
import syncd.daemon  # everything a running syncd has imported
from syncd.errors import SourceInvalid
from syncd.sources.csvfile import CsvFile
from syncd.sources.jsonl import JsonLinesFile
path = Path(sys.argv[1])
source = CsvFile(path) if path.suffix == ".csv" else JsonLinesFile(path)
try:
    outcome = f"{sum(1 for _ in source.rows(['Email']))} rows"
except SourceInvalid as error:
    outcome = error.message
status = Path("/proc/self/status").read_text()
print(int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) // 1024, outcome)
"""


def peak_mib(path: Path) -> tuple[int, str]:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    peak, outcome = out.strip().split(" ", 1)
    return int(peak), outcome


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "first_line"), [("huge.csv", b"Email\n"), ("huge.jsonl", b'{"Email": "a@b.co"}\n')]
)
def test_a_400_mb_line_is_refused_with_flat_memory(
    tmp_path: Path, name: str, first_line: bytes
) -> None:
    small = tmp_path / f"small{Path(name).suffix}"
    small.write_bytes(first_line)
    huge = tmp_path / name
    with huge.open("wb") as handle:
        handle.write(first_line)
        handle.truncate(len(first_line) + SIZE)  # sparse: zero bytes, no newline
    base, _ = peak_mib(small)
    peak, outcome = peak_mib(huge)
    kind = Path(name).suffix.lstrip(".")
    assert (
        outcome == f"{kind} {name}: line 2 is longer than the limit of 1 MiB; is it the right file?"
    )
    print(f"{name}: peak RSS {peak} MiB, {base} MiB for a one-line file")
    assert peak - base < 16, f"reading grew memory by {peak - base} MiB"
    assert peak < 200


@pytest.mark.slow
def test_a_record_of_many_short_lines_is_refused_with_flat_memory(tmp_path: Path) -> None:
    # Each line (1 KB) and each field (1 MB) under its limit: 200 fields held whole in one
    # record took 870 MB.
    small = tmp_path / "small.csv"
    small.write_bytes(b"Email\n")
    field = b'"' + b"\n".join([b"x" * 1023] * 1000) + b'"'
    many = tmp_path / "many.csv"
    with many.open("wb") as handle:
        handle.write(b"Email" + b"".join(b",N%d" % n for n in range(200)) + b"\n")
        handle.write(b"a@example.com")
        for _ in range(200):
            handle.write(b"," + field)
        handle.write(b"\n")
    base, _ = peak_mib(small)
    peak, outcome = peak_mib(many)
    assert outcome == (
        "csv many.csv: the row starting on line 2 spans lines adding up to more than the "
        "limit of 2 MiB (a quoted field left open?); is it the right file?"
    )
    assert peak - base < 16, f"reading grew memory by {peak - base} MiB"
