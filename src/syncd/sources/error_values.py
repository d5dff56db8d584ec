"""A database's error message, without the values of the rows it may quote.

SQLite and PostgreSQL quote what they could not use, and a query can make that a value of
its rows: `current_setting(password)` answers `unrecognized configuration parameter
"<the password>"`, `password::regclass` `relation "<the password>" does not exist`. The
message goes to plans printed in CI on unmerged pull requests, to the status and to the
ledger. So a message that quotes anything is kept whole only when it is one of the
messages below and every name it quotes is a word the query itself spells (a column or a
table the author mistyped: what they need to see); any other is cut at its first quote.
Matching whole messages, not quoted spans one by one: a value can carry quotes of its own
(`'x"' || password` made `"x"` look like a span the query spells, and the password follow
it unquoted).

What stays possible is what counting rows already allows (a plan is an oracle for the
sources it may read): a message without quotes can still carry a few bytes or a number
derived from a value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

POSTGRES_MESSAGES = tuple(
    re.compile(pattern)
    for pattern in (
        r'column "([^"]*)" does not exist',
        r'column "([^"]*)" of relation "([^"]*)" does not exist',
        r'column reference "([^"]*)" is ambiguous',
        r'relation "([^"]*)" does not exist',
        r'schema "([^"]*)" does not exist',
        r'missing FROM-clause entry for table "([^"]*)"',
        r'syntax error at or near "([^"]*)"',
    )
)
SQLITE_MESSAGES = (re.compile(r'near "([^"]*)": syntax error'),)

_QUOTE = re.compile(r"[\"'`]")
# The words a query spells: identifiers and keywords, and the insides of its quoted
# identifiers and string literals; not its comments (a comment could spell anything).
_TOKEN = re.compile(
    r"--[^\n]*|/\*.*?(?:\*/|\Z)"  # comments: skipped
    r"|'((?:[^']|'')*)'?"  # a string literal
    r'|"((?:[^"]|"")*)"?'  # a quoted identifier
    r"|([A-Za-z_][A-Za-z0-9_$]*)",  # a word
    re.S,
)


def spelled(query: str) -> frozenset[str]:
    """The words, quoted identifiers and literals of `query`, case folded."""
    found: set[str] = set()
    for match in _TOKEN.finditer(query):
        literal, identifier, word = match.groups()
        if literal is not None:
            found.add(literal.replace("''", "'").casefold())
        elif identifier is not None:
            found.add(identifier.replace('""', '"').casefold())
        elif word is not None:
            found.add(word.casefold())
    return frozenset(found)


def values_hidden(message: str, query: str, known: Sequence[re.Pattern[str]]) -> str:
    """`message` whole if it quotes nothing, or if it is one of the `known` messages quoting
    only what `query` spells; else cut at its first quote (`… "…"`)."""
    first = _QUOTE.search(message)
    if first is None:
        return message
    words = spelled(query)
    for pattern in known:
        match = pattern.fullmatch(message)
        if match and all(name.casefold() in words for name in match.groups()):
            return message
    quote = first.group()
    return f"{message[: first.start()]}{quote}…{quote}"
