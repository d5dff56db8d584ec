"""Values PostgreSQL holds and Python cannot: dates and times `infinity` and `-infinity`,
years before 1 (BC) or after 9999, `24:00`; JSON nested deeper than Python's parser goes;
and values whose Python spelling is not PostgreSQL's (bytes, intervals, ranges).

psycopg raises for such a value, and a raise in a fetch fails the whole segment: one
`infinity` among a million rows stalled the destination. Such a value comes as the text
PostgreSQL wrote instead, so a Date field refuses that row alone (not a date), and a Text
field takes it as written. Every other value is loaded by psycopg's own loader.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import pq
from psycopg.abc import AdaptContext, Buffer, Loader
from psycopg.adapt import Loader as LoaderBase
from psycopg.types.string import TextLoader

RANGES = ("int4", "int8", "num", "date", "ts", "tstz")

TYPES = ("date", "time", "timetz", "timestamp", "timestamptz", "json", "jsonb")
"""Also JSON: Python's parser gives up on a document nested some thousand deep
(`RecursionError`), which failed the whole segment; such a value comes as its text."""
AS_WRITTEN = (
    "bytea",
    "interval",
    *(f"{kind}{range_}" for kind in RANGES for range_ in ("range", "multirange")),
)
"""Always loaded as PostgreSQL writes them (`\\xdead`, `2 days 03:00:00`,
`[2020-01-01,infinity)`): a Text field sent Python's spellings of them (`b'\\xde\\xad'`,
`2 days, 3:00:00`, `[1, 5)`), which nobody reading the table sees."""


def as_written_when_out_of_range(connection: psycopg.Connection[Any]) -> None:
    """Each of `TYPES` loaded by psycopg's text loader, or as its text when that raises;
    each of `AS_WRITTEN` as its text."""
    adapters = connection.adapters
    for name in AS_WRITTEN:
        info = adapters.types.get(name)
        if info is not None:  # multiranges: PostgreSQL 14 on
            adapters.register_loader(info.oid, TextLoader)
    for name in TYPES:
        info = adapters.types.get(name)
        if info is None:
            continue
        loader = adapters.get_loader(info.oid, pq.Format.TEXT)
        if loader is not None:
            adapters.register_loader(name, _as_written_when_refused(loader))


def _as_written_when_refused(loader: type[Loader]) -> type[LoaderBase]:
    # psycopg's compiled loaders cannot be subclassed: each is wrapped instead.
    class AsWrittenWhenRefused(LoaderBase):
        def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
            super().__init__(oid, context)
            self._loader = loader(oid, context)

        def load(self, data: Buffer) -> Any:
            try:
                return self._loader.load(data)
            except (psycopg.DataError, RecursionError):
                return bytes(data).decode("utf-8", "replace")

    return AsWrittenWhenRefused
