"""A segment, and the one source it is read from: a CSV or JSON Lines file, SQLite, PostgreSQL.

The models only describe a source: relative paths are resolved and the rows read
elsewhere (loading, sources).
"""

from __future__ import annotations

import codecs
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from syncd.destinations.base import NAME_PATTERN, StrictModel
from syncd.destinations.secret_refs import SecretRef
from syncd.durations import Duration

# Codecs Python calls text encodings that are not a file's characters: they turn a few
# bytes into many characters, or mean something else than the bytes of a line.
_NOT_FILE_ENCODINGS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape"})


def file_encoding(name: str) -> str:
    """The codec's own name, if `name` is a character encoding a file can be written in
    (`utf-8`, `latin-1`, `cp1252`, `utf-16`, ...); a ValueError saying why not, else.
    Python also has codecs from bytes to bytes (`base64`, `zlib`) and from text to text
    (`rot13`): none reads a file's lines."""
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}") from None
    if not codec._is_text_encoding or codec.name in _NOT_FILE_ENCODINGS:
        raise ValueError(f"{name!r} is not a character encoding of files (e.g. utf-8, latin-1)")
    return codec.name


def _checked_encoding(name: str) -> str:
    file_encoding(name)
    return name  # as written: the file's layout print takes the codec's own name


class CsvSource(StrictModel):
    path: str = Field(description="CSV file with a header row; relative to the destination file.")
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    encoding: Annotated[str, AfterValidator(_checked_encoding)] = Field(
        default="utf-8", description="The file's character encoding: utf-8, latin-1, cp1252, ..."
    )


class JsonlSource(StrictModel):
    path: str = Field(description="JSON Lines file, one object a line; relative paths as for csv.")


class SqliteSource(StrictModel):
    path: str = Field(description="SQLite database file, opened read-only.")
    query: Annotated[str, Field(min_length=1)] = Field(description="A SELECT returning the rows.")
    statement_timeout: Duration = Field(
        default="10m",  # parsed: validate_default
        validate_default=True,
        description="The query is ended once it has run this long, its fetches summed; at "
        "most SYNCD_MAX_STATEMENT_TIMEOUT (1h unless the operator says otherwise).",
    )


class PostgresSource(StrictModel):
    dsn: SecretRef = Field(description="Connection string, by reference (it holds a password).")
    query: Annotated[str, Field(min_length=1)] = Field(description="A SELECT returning the rows.")
    statement_timeout: Duration = Field(
        default="10m",  # parsed: validate_default
        validate_default=True,
        description="The query is cancelled after this long; at most "
        "SYNCD_MAX_STATEMENT_TIMEOUT (1h unless the operator says otherwise).",
    )


class Source(StrictModel):
    """Exactly one kind of source."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    csv: CsvSource | None = None
    jsonl: JsonlSource | None = None
    sqlite: SqliteSource | None = None
    postgres: PostgresSource | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        given = [k for k in ("csv", "jsonl", "sqlite", "postgres") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one source kind: csv, jsonl, sqlite or postgres")
        return self

    @property
    def options(self) -> CsvSource | JsonlSource | SqliteSource | PostgresSource:
        for option in (self.csv, self.jsonl, self.sqlite, self.postgres):
            if option is not None:
                return option
        raise AssertionError("validated to hold exactly one source")


class Segment(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=63, pattern=NAME_PATTERN)]
    source: Source
