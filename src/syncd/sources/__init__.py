"""Readers of segments: csv, jsonl, sqlite, postgres. Each streams rows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from syncd.allowlists import Allowlists, NotAllowed
from syncd.credentials import read_secret
from syncd.destinations import CsvSource, JsonlSource, PostgresSource, Segment, SqliteSource
from syncd.durations import duration_text
from syncd.errors import SourceInvalid
from syncd.sources.base import BadRow, PrintedRow, Row, RowSource, Stopping, never
from syncd.sources.csvfile import CsvFile
from syncd.sources.jsonl import JsonLinesFile
from syncd.sources.lines import content_print
from syncd.sources.sqlite import SqliteQuery

__all__ = [
    "BadRow",
    "PrintedRow",
    "Row",
    "RowSource",
    "Stopping",
    "files_print",
    "never",
    "open_segment",
    "printed_rows",
]


def files_print(segments: list[Segment], *, base_dir: Path, allowlists: Allowlists) -> str | None:
    """The fingerprints of every segment's file, or None when a segment is not a regular
    file inside SYNCD_SOURCE_DIRS (reading it then says what is wrong)."""
    prints = []
    for segment in segments:
        options = segment.source.options
        if not isinstance(options, CsvSource | JsonlSource):
            return None
        try:
            path = allowlists.source_file(options.path, base_dir)
        except NotAllowed:
            return None
        if not path.is_file():  # never open a FIFO: it would block
            return None
        prints.append(f"{content_print(path):016x}")
    return "-".join(prints)


def open_segment(
    segment: Segment, *, base_dir: Path, allowlists: Allowlists, stopping: Stopping = never
) -> RowSource:
    """The reader for one segment; relative paths resolve against the destination file.

    A file source is opened by its real path, which must be inside SYNCD_SOURCE_DIRS:
    checked again here because a link may have been swapped in since the file loaded; a
    query's time limit is held to SYNCD_MAX_STATEMENT_TIMEOUT here too.
    Every reader polls `stopping` and ends its read soon after it turns true.
    """
    options = segment.source.options

    def local(path: str) -> Path:
        try:
            return allowlists.source_file(path, base_dir)
        except NotAllowed as refused:
            raise SourceInvalid(f"segment {segment.name}: {path} {refused}") from None

    if isinstance(options, SqliteSource | PostgresSource):
        limit = options.statement_timeout
        try:
            allowlists.check_statement_timeout(limit.total_seconds())
        except NotAllowed as refused:
            raise SourceInvalid(
                f"segment {segment.name}: statementTimeout {duration_text(limit)} {refused}"
            ) from None

    if isinstance(options, CsvSource):
        return CsvFile(
            local(options.path),
            delimiter=options.delimiter,
            encoding=options.encoding,
            stopping=stopping,
        )
    if isinstance(options, JsonlSource):
        return JsonLinesFile(local(options.path), stopping=stopping)
    if isinstance(options, SqliteSource):
        return SqliteQuery(
            local(options.path),
            options.query,
            statement_timeout=options.statement_timeout,
            stopping=stopping,
        )
    if isinstance(options, PostgresSource):
        try:
            from syncd.sources.postgres import PostgresQuery  # psycopg for those who use it
        except ModuleNotFoundError as missing:
            if missing.name != "psycopg":
                raise
            raise SourceInvalid(
                f"segment {segment.name}: PostgreSQL sources need the psycopg driver, which "
                "this installation lacks: install syncd[postgres] (the container image has it)"
            ) from None

        dsn = read_secret(
            options.dsn,
            base_dir=base_dir,
            what=f"segment {segment.name} dsn",
            allowlists=allowlists,
        )
        return PostgresQuery(
            dsn,
            options.query,
            statement_timeout=options.statement_timeout,
            name=segment.name,
            stopping=stopping,
        )
    raise AssertionError(f"unhandled source {type(options).__name__}")


def printed_rows(source: RowSource, columns: Sequence[str], seed: int) -> Iterator[PrintedRow]:
    """The source's rows, each with the record's own print when the source has one (a CSV
    file: `CsvFile.printed_rows`), else None: the values are then printed (`ContactBuilder`)."""
    if isinstance(source, CsvFile):
        return source.printed_rows(columns, seed)
    return ((number, values, None) for number, values in source.rows(columns))
