"""Segment files for the benchmarks: deterministic CSV, generated once into a cache.

Every row carries the seven seed fields (email, first name, last name, country,
state, city, postal code). Row `i` is the same in every file, so a variant of a file
differs from it in exactly the rows the benchmark expects:

- `b3`: every row with `i % 100 == CHANGED_SLOT` has another first name, every row with
  `i % 100 == GONE_SLOT` is left out;
- `one`: row `ONE_ROW` has another first name (a row B3 then leaves out, so that a run
  on `one` before B3 leaves B3's expectations intact).

`python -m bench.data ROWS [--variant b3|one]` writes one file and prints where it is.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench.common import DATA, say

GENERATOR_VERSION = 2
COLUMNS = ("Email", "FirstName", "LastName", "Country", "State", "City", "PostalCode")
SLOTS = 100
CHANGED_SLOT = 17
GONE_SLOT = 53
ONE_ROW = GONE_SLOT

FIRST_NAMES = (
    "Ann", "Bob", "Carla", "Dmitri", "Eve", "Fatima", "Gus", "Hiro", "Ines", "Jon",
    "Kemal", "Lea", "Mohammed", "Nina", "Olu", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
    "Ulla", "Vikram", "Wen", "Xavier", "Yara", "Zoe", "Amelia", "Bruno", "Chiara", "Diego",
    "Elif", "Farid",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Garcia", "Mueller", "Nguyen", "Okafor", "Rossi", "Kowalski", "Tanaka",
    "Dubois", "Silva", "Jensen", "Haddad", "O'Neil", "Novak", "Ivanova", "Kim", "Lopez",
    "Schmidt", "Cohen", "Larsen", "Fernandes", "Yilmaz", "Andersson", "Papadopoulos",
    "Van der Berg", "Moreau", "Kaur", "Mensah", "Sato", "Horvath", "Bianchi", "Walsh",
)  # fmt: skip
# (country, state/region, city, postal code prefix); one needs CSV quoting, some are not ASCII.
PLACES = (
    ("US", "CA", "San Francisco", "941"),
    ("US", "NY", "New York", "100"),
    ("US", "DC", "Washington, D.C.", "200"),
    ("GB", "England", "London", "SW1A "),
    ("DE", "Berlin", "Berlin", "101"),
    ("FR", "Île-de-France", "Paris", "750"),
    ("ES", "Comunidad de Madrid", "Madrid", "280"),
    ("IT", "Lombardia", "Milano", "201"),
    ("CA", "ON", "Toronto", "M5V "),
    ("AU", "NSW", "Sydney", "20"),
    ("JP", "Tokyo", "Tokyo", "100-"),
    ("BR", "SP", "São Paulo", "010"),
    ("IN", "Maharashtra", "Mumbai", "400"),
    ("NL", "Noord-Holland", "Amsterdam", "10"),
    ("SE", "Stockholm", "Stockholm", "111 "),
    ("ZA", "Gauteng", "Johannesburg", "20"),
)
DOMAINS = ("example.com", "example.org", "mail.example.net", "Example.COM")

Variant = Literal["base", "b3", "one"]


def fields(i: int, variant: Variant = "base") -> tuple[str, ...]:
    """Row `i`'s values: email, first name, last name, country, state, city, postal code."""
    h = (i * 2654435761) & 0xFFFFFFFF  # Knuth's multiplicative hash: spread, repeatable
    first = FIRST_NAMES[h % len(FIRST_NAMES)]
    last = LAST_NAMES[(h >> 7) % len(LAST_NAMES)]
    country, state, city, postal = PLACES[(h >> 13) % len(PLACES)]
    local = f"{first}.{last.replace(' ', '').replace(chr(39), '')}.{i}"
    email = f"{local}@{DOMAINS[(h >> 19) % len(DOMAINS)]}"
    changed = i % SLOTS == CHANGED_SLOT if variant == "b3" else variant == "one" and i == ONE_ROW
    if changed:  # the same person, another first name
        first = FIRST_NAMES[(h + 1) % len(FIRST_NAMES)]
    return email, first, last, country, state, city, f"{postal}{i % 1000:03d}"


def _rows(start: int, stop: int, variant: Variant) -> Iterator[str]:
    for i in range(start, stop):
        if variant == "b3" and i % SLOTS == GONE_SLOT:
            continue
        email, first, last, country, state, city, postal = fields(i, variant)
        if "," in city:
            city = f'"{city}"'
        yield f"{email},{first},{last},{country},{state},{city},{postal}\n"


@dataclass(frozen=True)
class Dataset:
    """Rows `start`..`start + size` of the generator, as one CSV file."""

    size: int
    variant: Variant = "base"
    start: int = 0
    stem: str = ""

    @property
    def name(self) -> str:
        suffix = "" if self.variant == "base" else f"-{self.variant}"
        return self.stem or f"profiles-{self.size}{suffix}"

    @property
    def path(self) -> Path:
        return DATA / f"{self.name}.csv"

    def _count(self, slot: int) -> int:
        """How many `i` in start..start+size have `i % SLOTS == slot`."""

        def ceil(value: int) -> int:
            return -(-value // SLOTS)

        return ceil(self.start + self.size - slot) - ceil(self.start - slot)

    @property
    def changed(self) -> int:
        """Rows whose payload differs from the base file's (0 for the base file)."""
        if self.variant == "one":
            return 1 if self.start <= ONE_ROW < self.start + self.size else 0
        return self._count(CHANGED_SLOT) if self.variant == "b3" else 0

    @property
    def gone(self) -> int:
        """Base rows missing from this file (0 for the base file)."""
        return self._count(GONE_SLOT) if self.variant == "b3" else 0

    @property
    def profiles(self) -> int:
        return self.size - self.gone

    def ensure(self, *, quiet: bool = False) -> Path:
        """The file, generated unless a file of the same generator version is there."""
        meta_path = self.path.with_suffix(".json")
        meta = {"version": GENERATOR_VERSION, "rows": self.profiles, "start": self.start}
        if self.path.exists() and meta_path.exists():
            try:
                if json.loads(meta_path.read_text(encoding="utf-8")) == meta:
                    return self.path
            except ValueError:
                pass
        started = time.perf_counter()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", newline="") as handle:
            handle.write(",".join(COLUMNS) + "\n")
            buffer: list[str] = []
            for line in _rows(self.start, self.start + self.size, self.variant):
                buffer.append(line)
                if len(buffer) >= 100_000:
                    handle.write("".join(buffer))
                    buffer.clear()
            handle.write("".join(buffer))
        partial.replace(self.path)
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
        size_mb = self.path.stat().st_size / 1e6
        if not quiet:
            say(
                f"  generated {self.path.name}: {self.profiles:,} rows, {size_mb:,.0f} MB "
                f"in {time.perf_counter() - started:.1f}s"
            )
        return self.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rows", type=int)
    parser.add_argument("--variant", choices=("base", "b3", "one"), default="base")
    args = parser.parse_args()
    dataset = Dataset(args.rows, args.variant)
    print(dataset.ensure())


if __name__ == "__main__":
    main()
