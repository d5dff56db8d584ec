"""Regenerates the example segments in examples/data (deterministic: same files every time).

    python examples/generate.py

Thousands of made-up profiles across a CSV file, a JSON Lines file and a SQLite
database, overlapping between segments, with a few rows SendGrid would refuse,
so a first sync shows every outcome: exported, unchanged, removed, rejected.
"""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from pathlib import Path

DATA = Path(__file__).parent / "data"
FIRST = "Ada Alan Barbara Carlos Chen Dmitri Elena Fatima Grace Hiro Ines Jamal Kofi Lena Mateo "
FIRST += "Nadia Oscar Priya Quinn Rosa Sami Tomas Uma Viktor Wen Yara Zoe"
LAST = "Abara Becker Costa Dubois Eriksen Fischer Garcia Haddad Ivanova Jensen Kowalski Lopez "
LAST += "Moreau Nakamura Okafor Petrov Quist Rossi Silva Tanaka Umar Varga Weber Xu Yilmaz Zhou"
PLACES = [
    ("US", "CO", "Denver", "80202"),
    ("US", "NY", "New York", "10001"),
    ("US", "CA", "San Francisco", "94103"),
    ("GB", "England", "London", "SW1A 1AA"),
    ("DE", "Berlin", "Berlin", "10115"),
    ("FR", "Île-de-France", "Paris", "75001"),
    ("ES", "Madrid", "Madrid", "28001"),
    ("JP", "Tokyo", "Tokyo", "100-0001"),
    ("BR", "SP", "São Paulo", "01000-000"),
    ("NG", "Lagos", "Lagos", "100001"),
]
TIERS = ["bronze", "silver", "gold", "platinum"]
COLUMNS = ["EmailAddress", "FirstName", "LastName", "CountryRegion", "State", "City",
           "PostalCode", "Tier"]


def profiles(count: int, rng: random.Random) -> list[dict[str, str]]:
    firsts, lasts = FIRST.split(), LAST.split()
    people = []
    for n in range(count):
        first, last = rng.choice(firsts), rng.choice(lasts)
        country, state, city, postal = rng.choice(PLACES)
        domain = rng.choice(["example.com", "example.org", "example.net"])
        people.append({
            "EmailAddress": f"{first}.{last}.{n}@{domain}".lower(),
            "FirstName": first, "LastName": last, "CountryRegion": country, "State": state,
            "City": city, "PostalCode": postal, "Tier": rng.choice(TIERS),
        })
    return people


def with_bad_rows(rows: list[dict[str, str]], rng: random.Random) -> list[dict[str, str]]:
    bad = [
        {**rows[0], "EmailAddress": "not-an-email"},
        {**rows[1], "EmailAddress": ""},
        {**rows[2], "EmailAddress": "someone@example", "FirstName": "NoTopLevelDomain"},
        {**rows[3], "EmailAddress": "long.name@example.com", "FirstName": "X" * 60},
    ]
    mixed = rows[:]
    for row in bad:
        mixed.insert(rng.randrange(len(mixed)), row)
    return mixed


def main() -> None:
    rng = random.Random(20261129)
    people = profiles(6000, rng)
    vip = with_bad_rows(people[:1500], rng)
    buyers = people[1200:4200]  # 300 overlap with vip: the VIP segment wins them
    optins = with_bad_rows(people[4000:6000], rng)
    DATA.mkdir(exist_ok=True)

    with (DATA / "vip.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(vip)

    with (DATA / "newsletter-optins.jsonl").open("w", encoding="utf-8") as handle:
        for row in optins:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    db = DATA / "shop.db"
    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as connection:
        connection.execute(
            "CREATE TABLE customers (EmailAddress TEXT, FirstName TEXT, LastName TEXT,"
            " CountryRegion TEXT, State TEXT, City TEXT, PostalCode TEXT, Tier TEXT,"
            " LastOrderDays INTEGER)"
        )
        connection.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*(row[c] for c in COLUMNS), rng.randrange(0, 365)) for row in buyers],
        )
        connection.execute(
            "CREATE VIEW recent_buyers AS SELECT * FROM customers WHERE LastOrderDays <= 180"
        )
    connection.close()


if __name__ == "__main__":
    main()
