"""The corpus's generated source data: what cannot live in git, or should not (binary data,
files of megabytes, FIFOs, 10,000 rows), made in a temporary directory."""

from __future__ import annotations

import os
import random
import sqlite3
from pathlib import Path

from tests.corpus.common import MIB

STRAY_QUOTE_ROWS = 2000
STRAY_QUOTE_AT = 1700  # the data row (line 1,701) whose quote is never closed


def source_corpus(data: Path) -> Path:
    """The generated source files, in `data` (created)."""
    data.mkdir(parents=True, exist_ok=True)
    rng = random.Random(9)
    (data / "binary.csv").write_bytes(
        b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(2048))
    )
    # A quoted field of short lines: over the field limit, never over the line limit.
    field = "\n".join(["x" * 1000] * (MIB // 1000 + 1))
    (data / "huge-field.csv").write_text(f'Email\n"{field}@example.com"\n')
    long_line = "x" * (MIB + 1)
    (data / "long-line.csv").write_text(f"Email\ncorpus.ok@example.com\n{long_line}\n")
    (data / "long-line.jsonl").write_text(
        '{"Email": "corpus.ok@example.com"}\n' * 2 + f'{{"Email": "{long_line}"}}\n'
    )
    stray_quote(data)
    os.mkfifo(data / "fifo.csv")
    _invalid_rows(data / "ten-thousand-invalid.csv", invalid=10_000, valid=50)
    _invalid_rows(data / "twelve-thousand-invalid.csv", invalid=12_000, valid=10)
    with sqlite3.connect(data / "people.db") as db:
        db.execute("CREATE TABLE people (Email TEXT)")
        db.execute("INSERT INTO people VALUES ('corpus.sqlite@example.com')")
    db.close()
    return data


def stray_quote(data: Path) -> tuple[Path, Path]:
    """The source as synced (`stray-quote.clean.csv`), and the same broken by one unclosed
    quote at data row `STRAY_QUOTE_AT` (`stray-quote.csv`): (clean, broken)."""
    lines = ["Email,FirstName"]
    lines += [f"corpus.quote.{n}@example.com,Person{n}" for n in range(1, STRAY_QUOTE_ROWS + 1)]
    (data / "stray-quote.clean.csv").write_text("\n".join(lines) + "\n")
    lines[STRAY_QUOTE_AT] = lines[STRAY_QUOTE_AT].replace(",", ',"', 1)
    (data / "stray-quote.csv").write_text("\n".join(lines) + "\n")
    return data / "stray-quote.clean.csv", data / "stray-quote.csv"


def _invalid_rows(path: Path, *, invalid: int, valid: int) -> None:
    rows = ["Email"]
    rows += [f"not-an-address-{n}" for n in range(invalid)]
    rows += [f"corpus.valid.{n}@example.com" for n in range(valid)]
    path.write_text("\n".join(rows) + "\n")
