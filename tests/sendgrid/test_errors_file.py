"""A job's errors file, in every shape SendGrid might give it (its format is undocumented)."""

from __future__ import annotations

import gzip

import orjson
import pytest

from syncd.sendgrid.errors_file import (
    DEFAULT_REASON,
    MAX_UNPACKED,
    UnreadableErrorsFile,
    parse_errors_file,
)

EXPECTED = {"ann@example.com": "invalid email", "bob@example.com": "bad value"}


@pytest.mark.parametrize(
    "header",
    [
        "email,error",
        "Email,Error",
        "EMAIL,ERROR",
        "Email Address,Error Message",
        "email_address,reason",
    ],
)
def test_csv_headers_are_matched_without_regard_to_case_spaces_or_underscores(header: str) -> None:
    text = f"{header}\nAnn@Example.com,invalid email\nbob@example.com,bad value\n"
    assert parse_errors_file(text.encode()) == EXPECTED


def test_columns_in_another_order_and_extra_columns_are_fine() -> None:
    text = (
        "line,Error,Email,job\n2,invalid email,ann@example.com,x\n3,bad value,bob@example.com,x\n"
    )
    assert parse_errors_file(text.encode()) == EXPECTED


@pytest.mark.parametrize(
    "body",
    [
        orjson.dumps(
            [
                {"email": "ann@example.com", "error": "invalid email"},
                {"EMAIL": "bob@example.com", "message": "bad value"},
            ]
        ),
        orjson.dumps(
            {
                "errors": [
                    {"email": "ann@example.com", "errors": ["invalid email"]},
                    {"email": "bob@example.com", "error": {"message": "bad value"}},
                ]
            }
        ),
        b'{"email": "ann@example.com", "reason": "invalid email"}\n'
        b'{"email": "bob@example.com", "reason": "bad value"}\n',
    ],
)
def test_json_files_are_read_as_arrays_objects_or_lines(body: bytes) -> None:
    assert parse_errors_file(body) == EXPECTED


def test_a_gzipd_file_is_recognised_by_its_bytes() -> None:
    raw = b"email,error\nann@example.com,invalid email\nbob@example.com,bad value\n"
    assert parse_errors_file(gzip.compress(raw)) == EXPECTED


def test_rows_without_an_address_are_skipped_and_a_missing_reason_is_said() -> None:
    text = "email,error\n,orphan reason\nann@example.com,\n"
    assert parse_errors_file(text.encode()) == {"ann@example.com": DEFAULT_REASON}


@pytest.mark.parametrize("junk", [b"", b"\x00\x01\x02", b"[1, 2, 3]", b"{not json", b"\xff\xfe"])
def test_junk_gives_nothing_rather_than_an_error(junk: bytes) -> None:
    assert parse_errors_file(junk) == {}


def test_a_file_that_unpacks_past_the_limit_or_is_broken_gzip_is_not_read() -> None:
    # A few hundred KB that would unpack to over 64 MB: refused before it is all unpacked.
    bomb = gzip.compress(b"email,error\n" + b"x" * (MAX_UNPACKED + 1), compresslevel=9)
    assert len(bomb) < 1 << 20
    with pytest.raises(UnreadableErrorsFile, match="unpacks to over 64 MB"):
        parse_errors_file(bomb)
    with pytest.raises(UnreadableErrorsFile, match="not valid gzip"):
        parse_errors_file(b"\x1f\x8b" + b"not gzip at all")
    small = gzip.compress(b"email,error\nann@example.com,invalid email\n")
    assert parse_errors_file(small) == {"ann@example.com": "invalid email"}
