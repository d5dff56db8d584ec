"""A connection string's password never survives in an error text, however it is spelt."""

from __future__ import annotations

import pytest

from syncd.sources.passwords import WITHHELD, password_spellings, without_password


@pytest.mark.parametrize(
    ("dsn", "spellings"),
    [
        ("postgresql://reader:s3cret%20pass@db:5432/shop", {"s3cret%20pass", "s3cret pass"}),
        ("postgresql://reader:p%ss@db/shop", {"p%ss"}),
        ("postgres://reader:a@b%40c@db/shop", {"a", "a@b%40c", "a@b@c"}),
        ("postgresql://db/shop?user=r&password=top%2Bsecret", {"top%2Bsecret", "top+secret"}),
        (
            "host=db user=reader password='it\\'s a secret' dbname=shop",
            {"'it\\'s a secret'", "it\\'s a secret", "it's a secret"},
        ),
        ("host=db password=plain dbname=shop", {"plain"}),
        ("postgresql://reader@db/shop", set()),
    ],
)
def test_every_spelling_of_the_password_is_found(dsn: str, spellings: set[str]) -> None:
    assert password_spellings(dsn) == spellings


def test_each_spelling_is_masked_in_a_text() -> None:
    dsn = "postgresql://reader:s3cret%20pass@db/shop"
    text = 'invalid token "s3cret%20pass" (decoded: s3cret pass) for reader@db'
    masked = without_password(text, dsn)
    assert "s3cret" not in masked
    assert masked.startswith('invalid token "***" (decoded: ***)')


def test_a_password_too_short_to_mask_withholds_the_whole_text() -> None:
    dsn = "postgresql://reader:abc@db/shop"
    assert without_password("role abc refused", dsn) == WITHHELD
    assert without_password("connection refused", dsn) == "connection refused"
