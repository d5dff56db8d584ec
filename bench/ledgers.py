"""The PostgreSQL ledger for the large refreshes, and how it is filled without a 10M export.

An initial export of 10 million profiles through the emulator would take longer than
the whole benchmark budget (≈ 350 PUTs of 6 MB, and the emulator holding 10M contacts
in memory), and the refresh that B2 measures does not depend on how the ledger was
filled. So the ledger is *pre-seeded*: syncd's own code (the destination loader, the
CSV reader, `ContactBuilder`, `FieldBinding`) computes every contact's fingerprint
exactly as a run would, and the rows go into syncd's `acked` table with COPY. Then
`VACUUM ANALYZE acked`, which autovacuum would have done after an export that size (the
benchmark must not depend on the server's autovacuum settings). The refresh then
checks itself: a pre-seeded ledger that did not match what syncd computes would show
up as contacts sent, and the run counts as failed.
"""

from __future__ import annotations

import itertools
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import xxhash

from bench.common import DATA, PG_DSN
from bench.syncing import World
from syncd.contacts import ContactBuilder, FieldBinding
from syncd.ledger import open_ledger
from syncd.loading import LoadedDestination, load_directory
from syncd.settings import Settings
from syncd.sources import BadRow, files_print, open_segment, printed_rows


def postgres_problem(dsn: str = PG_DSN) -> str | None:
    """Why the PostgreSQL scenarios cannot run, or None."""
    try:
        with psycopg.connect(dsn, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        return f"no PostgreSQL at {dsn} ({str(error).strip().splitlines()[0]})"
    return None


def server_facts(dsn: str = PG_DSN) -> dict[str, str]:
    """The server's version and the settings the figures depend on."""
    names = ("server_version", "shared_buffers", "work_mem", "temp_buffers", "autovacuum")
    facts: dict[str, str] = {}
    with psycopg.connect(dsn, connect_timeout=5) as connection:
        for name in names:
            row = connection.execute(f"SHOW {name}").fetchone()
            facts[name] = str(row[0]) if row else ""
    return facts


def schema_url(schema: str, dsn: str = PG_DSN) -> str:
    """The ledger URL with `search_path` set to `schema`."""
    options = urllib.parse.quote(f"-c search_path={schema}")
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}options={options}"


def reset_schema(schema: str, dsn: str = PG_DSN) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        connection.execute(f'CREATE SCHEMA "{schema}"')


def drop_schema(schema: str, dsn: str = PG_DSN) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass(frozen=True)
class Preseeded:
    contacts: int
    seconds: float


ACKED_COLUMNS = ("destination", "email", "fingerprint", "binding", "raw", "acked_at")
LEFT_NULL = ("sent_in",)
"""Columns a pre-seeded contact leaves empty: no batch of the ledger carried it."""


def preseed(world: World, schema: str, dsn: str = PG_DSN) -> Preseeded:
    """Fill the ledger's `acked` table with what an initial export of the world's
    segment would have acknowledged (see the module docstring).

    Written against the ledger's schema: a column it does not know stops it with a
    message, rather than filling the ledger with something syncd would not write.

    Computing 10M contacts takes minutes, so the table's rows are also kept in
    bench/results/data/ and copied back on the next run, as long as the segment's bytes,
    the columns and the first thousand contacts syncd computes are the same (a change in
    how syncd keys contacts changes those)."""
    started = time.perf_counter()
    open_ledger(world.state).close()  # syncd creates its schema, as on first start
    with psycopg.connect(schema_url(schema, dsn)) as connection:
        columns = [
            str(row[0])
            for row in connection.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = 'acked' ORDER BY ordinal_position",
                (schema,),
            )
            if row[0] not in LEFT_NULL
        ]
        allowlists = Settings(destinations=world.destinations, source_dirs=(DATA,)).allowlists()
        loaded = load_directory(world.destinations, allowlists).destinations[world.name]
        records = _acked_records(world.name, loaded, columns)
        head = list(itertools.islice(records, CACHE_CHECK_ROWS))
        cached = _cache_path(world.name, loaded, columns, head)
        copy_in = f"COPY acked ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor:
            if cached.exists():
                contacts = int(cached.stem.rpartition("-")[2])
                with cursor.copy(copy_in) as copy, cached.open("rb") as rows:
                    while block := rows.read(1 << 20):
                        copy.write(block)
            else:
                contacts = 0
                with cursor.copy(copy_in) as copy:
                    for record in itertools.chain(head, records):
                        copy.write_row(record)
                        contacts += 1
        if not cached.exists():
            _keep(connection, columns, cached, contacts)
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE acked")
    return Preseeded(contacts, time.perf_counter() - started)


CACHE_CHECK_ROWS = 1000


def _acked_records(name: str, loaded: LoadedDestination, columns: list[str]) -> Iterator[list[Any]]:
    """The `acked` rows an initial export would write, computed by syncd's own code."""
    spec = loaded.definition.spec
    builder = ContactBuilder(spec.mapping)
    key = getattr(builder, "key", None)  # the source-values fingerprint, where the ledger has one
    binding = FieldBinding(spec.sendgrid.list_id, {}).digest  # no custom fields: generation 0
    unknown = [c for c in columns if c not in ACKED_COLUMNS]
    if unknown or ("raw" in columns and key is None):
        raise RuntimeError(
            f"the ledger's acked table has columns {columns}: bench/ledgers.py cannot "
            "pre-seed them yet; teach preseed() how syncd fills them"
        )
    for segment in spec.segments:
        source = open_segment(segment, base_dir=loaded.path.parent, allowlists=loaded.allowlists)
        for _, values, printed in printed_rows(source, builder.columns, builder.seed):
            if isinstance(values, BadRow):
                continue
            built = builder.build(values)
            if isinstance(built, str):
                continue
            record = {
                "destination": name,
                "email": built.email,
                "fingerprint": built.fingerprint,
                "binding": binding,
                "acked_at": 0.0,
            }
            if "raw" in columns:
                record["raw"] = key(list(values), printed)[1] if key is not None else 0
            yield [record[c] for c in columns]


def _cache_path(
    name: str, loaded: LoadedDestination, columns: list[str], head: list[list[Any]]
) -> Path:
    prints = files_print(
        loaded.definition.spec.segments,
        base_dir=loaded.path.parent,
        allowlists=loaded.allowlists,
    )
    digest = xxhash.xxh3_64(repr((prints, columns, head)).encode()).hexdigest()
    matches = sorted(DATA.glob(f"acked-{name}-{digest}-*.copy"))
    return matches[0] if matches else DATA / f"acked-{name}-{digest}-pending.copy"


def _keep(connection: psycopg.Connection, columns: list[str], cached: Path, contacts: int) -> None:
    """Dump the freshly computed rows for the next run (written aside, then renamed)."""
    for stale in DATA.glob(f"{cached.name.rsplit('-', 2)[0]}-*.copy"):
        stale.unlink()
    partial = cached.with_suffix(".partial")
    # In the primary key's order: copied back, the index then grows at its right edge
    # (3.5 s instead of 9.3 s for 1M rows; at 10M the random order overflows the cache).
    listed = ", ".join(columns)
    dump = f"COPY (SELECT {listed} FROM acked ORDER BY destination, email) TO STDOUT"
    with connection.cursor() as cursor, partial.open("wb") as out, cursor.copy(dump) as copy:
        for block in copy:
            out.write(block)
    partial.rename(cached.with_name(cached.name.replace("-pending.copy", f"-{contacts}.copy")))
