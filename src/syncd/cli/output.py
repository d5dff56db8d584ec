"""Everything the CLI prints passes the one scrubber (`syncd.logs.scrub`), whoever prints it.

Secrets are always removed; addresses are masked except inside `addresses_shown()`,
which only `syncd status NAME --rejections` uses: the operator asked for the rows.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO, cast

from syncd.logs import one_line, scrub


class ScrubbedStream(io.TextIOBase):
    """A text stream that scrubs what is written to it before passing it on."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self.addresses_masked = True

    def write(self, text: str) -> int:
        self.stream.write(scrub(text, addresses=self.addresses_masked))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    @property
    def unscrubbed(self) -> TextIO:
        """The stream itself, for syncd's own control characters (`Follower`) alone."""
        return self.stream

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding


@contextmanager
def scrubbed_output() -> Iterator[None]:
    """Scrub standard output and standard error within the block."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, ScrubbedStream(out))
    sys.stderr = cast(TextIO, ScrubbedStream(err))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


@contextmanager
def addresses_shown() -> Iterator[None]:
    """Within the block, standard output keeps email addresses (secrets are still removed)."""
    stream = sys.stdout
    if not isinstance(stream, ScrubbedStream):
        yield
        return
    stream.addresses_masked = False
    try:
        yield
    finally:
        stream.flush()
        stream.addresses_masked = True


def problem_line(file: str, line: int | None, column: int | None, message: str) -> str:
    """A file's problem as one line, `file:line:col: message` (a name or message holding a
    line feed must not start a line of its own: CI reads lines as findings)."""
    where = file
    if line is not None:
        where += f":{line}" + (f":{column}" if column is not None else "")
    return one_line(f"{where}: {message}")
