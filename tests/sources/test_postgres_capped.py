"""The end of a PostgreSQL segment query, found as PostgreSQL reads it (`statement_body`):
what follows its last statement (`;`, comments) is cut so that it stands as a subquery."""

from __future__ import annotations

import pytest

from syncd.sources.postgres_capped import statement_body


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("SELECT 1;", "SELECT 1"),
        ("SELECT 1; -- done", "SELECT 1"),
        ("SELECT 1; /* a /* nested */ one */ ;", "SELECT 1"),
        ("SELECT 1 -- no newline at the end", "SELECT 1"),
        ("SELECT ';--' AS x;", "SELECT ';--' AS x"),
        ('SELECT 1 AS "a;b";', 'SELECT 1 AS "a;b"'),
        ("SELECT $t$ ; -- $t$ AS x;", "SELECT $t$ ; -- $t$ AS x"),
        ("SELECT 'it''s;' AS x;", "SELECT 'it''s;' AS x"),
        # E'...' strings take backslash escapes, wherever the E stands as a word of its own
        ("SELECT 1 WHERE f <> E'it\\'s;';", "SELECT 1 WHERE f <> E'it\\'s;'"),
        ("SELECT 1 WHERE f <>\nE'it\\'s';", "SELECT 1 WHERE f <>\nE'it\\'s'"),
        ("SELECT f||E'\\'' AS first FROM t;", "SELECT f||E'\\'' AS first FROM t"),
        # ... and not when it ends a word: a standard string, whose backslash is itself
        ("SELECT x LIKE'C:\\' FROM t; -- c", "SELECT x LIKE'C:\\' FROM t"),
    ],
)
def test_what_follows_the_last_statement_is_cut(query: str, body: str) -> None:
    assert statement_body(query) == body
