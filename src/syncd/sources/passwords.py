"""A connection string's password kept out of error texts, in every spelling.

libpq and psycopg may quote a fragment of the connection string in an error, e.g.
`invalid percent-encoded token: "p%ss"` for a password with a bad escape. The log
scrubber masks whole connection strings and `user:password@` pairs; here the password
is removed on its own, as written (URL-encoded or quoted) and as meant (decoded).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from syncd.logs import scrub

# Up to the first `@` (libpq's reading) and up to the last (an unencoded `@` in it).
_URI_PASSWORDS = (
    re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*:([^@/?#]*)@"),
    re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*:([^/?#]*)@"),
)
_QUERY_PASSWORD = re.compile(r"[?&]password=([^&#]*)", re.I)
_KEYWORD_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'?|\S*)", re.I)
SHORTEST_MASKABLE = 4
"""Shorter passwords cannot be masked without garbling the text: it is withheld."""
WITHHELD = "details withheld (they would show the password)"


def password_spellings(dsn: str) -> set[str]:
    """Every way the password may appear in a message: as written and as decoded."""
    written = [m.group(1) for pattern in _URI_PASSWORDS for m in pattern.finditer(dsn)]
    written += [m.group(1) for m in _QUERY_PASSWORD.finditer(dsn)]
    spellings = set(written) | {unquote(w) for w in written}
    for match in _KEYWORD_PASSWORD.finditer(dsn):
        value = match.group(1)
        spellings.add(value)
        if value.startswith("'"):
            inner = value[1:-1] if len(value) > 1 and value.endswith("'") else value[1:]
            spellings |= {inner, re.sub(r"\\(.)", r"\1", inner)}
    return {s for s in spellings if s}


def without_password(text: str, dsn: str) -> str:
    """`text` scrubbed, with no spelling of the DSN's password left in it."""
    text = scrub(text)
    for spelling in sorted(password_spellings(dsn), key=len, reverse=True):
        if spelling in text:
            if len(spelling) < SHORTEST_MASKABLE:
                return WITHHELD
            text = text.replace(spelling, "***")
    return text
