"""Markdown for pull-request comments, safe whatever the sources hold.

Values come from customer data (names, reasons quoting them): in a comment they must not
become links, images, mentions, HTML or table columns. Every such text goes in a code
span (`code`), which GitHub and GitLab render literally; a `|` inside is escaped, as
tables require even in code spans.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_BACKTICKS = re.compile(r"`+")


def code(text: str) -> str:
    """`text` as an inline code span on one line, whatever backticks it holds."""
    flat = " ".join(text.split()) or " "
    longest = max((len(run) for run in _BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {flat} " if flat.startswith("`") or flat.endswith("`") else flat
    return f"{fence}{padded.replace('|', chr(92) + '|')}{fence}"


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()
) -> str:
    """A GitHub-flavoured table; cells are trusted Markdown (use `code` for values)."""
    rule = ["---:" if i in numeric else "---" for i in range(len(headers))]
    lines = [_row(headers), _row(rule)]
    lines += [_row(row) for row in rows]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
