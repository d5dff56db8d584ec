"""Micro-benchmark of the three contact stages on the benchmark rows, in this process.

`ContactBuilder.key` runs on every row of every run, `build` on changed rows, and
`Outgoing.encode` on contacts about to be sent: their cost per row, without I/O.

    python -m bench.contact_stages [--rows 200000] [--repeat 5]

Each figure is the best of `--repeat` passes over the same rows (the least disturbed
by other work on the machine), in nanoseconds per row. The rows are the benchmark's
seven reserved fields plus a Number, a Date (YYYY-MM-DD) and a Text custom field.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.data import COLUMNS, fields
from syncd.contacts import ContactBuilder, CustomField, Outgoing, bind_fields
from syncd.destinations import Mapping

MAPPING = Mapping.model_validate(
    {
        "email": "Email",
        "first_name": "FirstName",
        "last_name": "LastName",
        "country": "Country",
        "state_province_region": "State",
        "city": "City",
        "postal_code": "PostalCode",
        "custom_fields": {"orders": "Orders", "joined": "Joined", "tier": "Tier"},
    }
)
FIELDS = {
    "orders": CustomField("e1_N", "Number"),
    "joined": CustomField("e2_D", "Date"),
    "tier": CustomField("e3_T", "Text"),
}


def rows(count: int) -> list[list[Any]]:
    """The benchmark's seven fields, and a Number, a Date and a Text custom field, in the
    order of `ContactBuilder(MAPPING).columns`."""
    columns = ContactBuilder(MAPPING).columns
    made = []
    for i in range(count):
        row = dict(zip(COLUMNS, fields(i), strict=True))
        row["Orders"] = str(i % 97)
        row["Joined"] = f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}"
        row["Tier"] = "gold" if i % 3 else ""
        made.append([row[column] for column in columns])
    return made


def best(passes: int, count: int, work: Callable[[], object]) -> float:
    """Nanoseconds per row of the fastest pass, the garbage collector paused (its pauses
    depend on what else the process holds, not on the stage)."""
    times = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(passes):
            started = time.perf_counter_ns()
            work()
            times.append(time.perf_counter_ns() - started)
    finally:
        gc.enable()
    return min(times) / count


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    builder = ContactBuilder(MAPPING)
    table = rows(args.rows)
    keyed = [builder.key(row) for row in table]
    encoded = [k[2] for k in keyed if not isinstance(k, str)]
    built = [b for b in map(builder.build_encoded, encoded) if not isinstance(b, str)]
    outgoing = Outgoing(bind_fields("L", list(FIELDS), FIELDS), MAPPING)
    payloads = [b.payload for b in built]
    assert len(payloads) == args.rows
    key, raw_print, build_encoded, encode = (
        builder.key,
        builder.raw_print,
        builder.build_encoded,
        outgoing.encode,
    )
    figures = {
        "key": best(args.repeat, args.rows, lambda: [key(row) for row in table]),
        "raw_print": best(args.repeat, args.rows, lambda: [raw_print(row) for row in table]),
        "build_encoded": best(args.repeat, args.rows, lambda: list(map(build_encoded, encoded))),
        "encode": best(args.repeat, args.rows, lambda: list(map(encode, payloads))),
    }
    for stage, ns in figures.items():
        print(f"{stage:>14}: {ns:8.0f} ns/row  ({ns * args.rows / 1e9:.3f} s for {args.rows:,})")


if __name__ == "__main__":
    main()
