"""A PostgreSQL segment query as syncd runs it: a subquery out of which come only the
mapped columns, each value capped.

`SELECT <mapped, capped> FROM (<query>) AS syncd_q`: a column the mapping does not name is
never sent to syncd, and a mapped value longer than `MAPPED_VALUE_BYTES` as text comes as
its first `MAPPED_VALUE_BYTES + 1` characters (so the row is refused for its length, its
address kept: the contact stays as SendGrid has it, rather than leaving the segment). A
query ending in `;` (and comments after it) stands as a subquery once those are cut.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import sql

MAPPED_VALUE_BYTES = 4096
"""The longest mapped value fetched whole, as text: SendGrid takes a kilobyte at most."""


def capped(query: str, columns: Sequence[str], connection: psycopg.Connection) -> str:
    """The query as syncd runs it: for each mapped column its value (null when over the
    cap), then for each its first characters when over the cap (else null)."""
    cap = MAPPED_VALUE_BYTES
    values, prefixes = [], []
    for column in columns:
        name = "syncd_q." + sql.Identifier(column).as_string(connection)
        over = f"octet_length({name}::text) > {cap}"
        values.append(f"CASE WHEN {over} THEN NULL ELSE {name} END")
        prefixes.append(f"CASE WHEN {over} THEN left({name}::text, {cap + 1}) END")
    return f"SELECT {', '.join([*values, *prefixes])} FROM (\n{statement_body(query)}\n) AS syncd_q"


def uncapped(record: Sequence[object], width: int) -> list[object]:
    """A fetched row's mapped values, a capped one replaced by its first characters."""
    values = list(record[:width])
    for i, prefix in enumerate(record[width:]):
        if prefix is not None:
            values[i] = prefix
    return values


def statement_body(query: str) -> str:
    """The query without what may follow its last statement: `;`, comments, spaces (a
    subquery takes none of them). Quoted text, quoted names and dollar-quoted bodies are
    skipped whole, so a `;` or `--` inside them is no end."""
    end = 0  # just past the last character of code (not space, comment or `;`)
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c == "-" and query.startswith("--", i):
            newline = query.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif c == "/" and query.startswith("/*", i):
            i = _block_comment_end(query, i)
        elif c.isspace() or c == ";":
            i += 1
        else:
            i = _token_end(query, i)
            end = i
    return query[:end]


def _block_comment_end(query: str, start: int) -> int:
    """Past the comment opened at `start` (PostgreSQL nests them)."""
    depth, i = 0, start
    while i < len(query):
        if query.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif query.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(query)


def _token_end(query: str, i: int) -> int:
    """Past the piece of code at `i`: a quoted string or name, a dollar-quoted body, or
    one character."""
    c = query[i]
    if c in "'\"":
        escapes = c == "'" and _escape_prefix(query, i)
        j = i + 1
        while j < len(query):
            if escapes and query[j] == "\\":
                j += 2
                continue
            if query[j] == c:
                if query.startswith(c * 2, j):  # a doubled quote stands for itself
                    j += 2
                    continue
                return j + 1
            j += 1
        return len(query)
    if c == "$":
        close = query.find("$", i + 1)
        tag = query[i : close + 1] if close > 0 else ""
        if tag and (tag == "$$" or tag[1:-1].replace("_", "a").isalnum()):
            body_end = query.find(tag, close + 1)
            return len(query) if body_end < 0 else body_end + len(tag)
    return i + 1


def _escape_prefix(query: str, quote: int) -> bool:
    """Whether the string opened at `quote` is E'...' (backslash escapes): an E right
    before it that is a word of its own (`<>E'`, a line then `E'`), not a word's last
    letter (`LIKE'...'`)."""
    if quote < 1 or query[quote - 1] not in "eE":
        return False
    before = query[quote - 2] if quote >= 2 else " "
    return not (before.isalnum() or before in "_$")
