"""The source side of a scene: a customer segment written to a CSV file, and churned."""

from __future__ import annotations

import csv
import io
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# -- the source ------------------------------------------------------------------------


TIERS = ("bronze", "silver", "gold", "platinum")
COLUMNS = ("Email", "FirstName", "LastName", "Tier")


@dataclass
class Person:
    first: str
    last: str
    tier: str


class Segment:
    """A customer segment written to a CSV file; churn it and write it again.

    Addresses are written in mixed case (`Guarantee.Person7@Example.com`): syncd
    normalises them, the audit compares lower-cased.
    """

    def __init__(self, path: Path, *, size: int, seed: int, prefix: str = "Guarantee") -> None:
        self.path = path
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.version = 0
        self.numbers = 0
        self.people: dict[str, Person] = {}
        self.ever: set[str] = set()
        self.extra_rows: list[dict[str, str]] = []
        """Rows written as they are after the people (invalid ones, for rejection tests)."""
        self.add(size)

    def address(self, number: int) -> str:
        return f"{self.prefix}.Person{number}@Example.com"

    def add(self, count: int) -> list[str]:
        added = []
        for _ in range(count):
            self.numbers += 1
            email = self.address(self.numbers)
            self.people[email] = Person(
                f"F{self.numbers}", f"L{self.numbers}v{self.version}", self.rng.choice(TIERS)
            )
            self.ever.add(email)
            added.append(email)
        return added

    def change(self, count: int, *, emails: Sequence[str] | None = None) -> list[str]:
        """A new value for `count` random people (or for those given)."""
        self.version += 1
        chosen = list(emails) if emails is not None else self._pick(count)
        for email in chosen:
            person = self.people[email]
            number = email.split("Person")[1].split("@")[0]
            person.last = f"L{number}v{self.version}"
            person.tier = self.rng.choice(TIERS)
        return chosen

    def remove(self, count: int) -> list[str]:
        chosen = self._pick(count)
        for email in chosen:
            del self.people[email]
        return chosen

    def churn(self, *, changes: int = 0, adds: int = 0, removes: int = 0) -> None:
        self.remove(removes)
        self.change(changes)
        self.add(adds)

    def _pick(self, count: int) -> list[str]:
        return self.rng.sample(sorted(self.people), min(count, len(self.people)))

    def write(self) -> None:
        """Atomically, as an export job would: a reader sees the old file or the new one."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for email, p in self.people.items():
            writer.writerow((email, p.first, p.last, p.tier))
        for row in self.extra_rows:
            writer.writerow([row.get(column, "") for column in COLUMNS])
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(buffer.getvalue(), encoding="utf-8")
        temporary.replace(self.path)

    def expected(self) -> dict[str, Person]:
        return {email.lower(): person for email, person in self.people.items()}
