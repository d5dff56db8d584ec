"""A small world for sync tests: segment files, a destination file, a ledger, the emulator."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from syncd.clock import SYSTEM_CLOCK, Clock, LoopClock
from syncd.emulator import Emulator
from syncd.ledger import Ledger, open_ledger
from syncd.loading import load_directory
from syncd.metrics import Metrics
from syncd.reconciling import Reconciler, RunReport
from syncd.settings import Settings
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID

COLUMNS = ["EmailAddress", "FirstName", "LastName", "Tier"]
Row = dict[str, str]


def people(start: int, count: int, *, tier: str = "gold") -> list[Row]:
    return [
        {
            "EmailAddress": f"Person.{n}@Example.com",
            "FirstName": f"First{n}",
            "LastName": f"Last{n}",
            "Tier": tier,
        }
        for n in range(start, start + count)
    ]


def emails(rows: Sequence[Row]) -> set[str]:
    return {row["EmailAddress"].strip().lower() for row in rows}


class World:
    def __init__(self, root: Path, emulator: Emulator) -> None:
        self.root = root
        self.emulator = emulator
        self.destinations = root / "destinations.d"
        self.data = root / "data"
        self.destinations.mkdir()
        self.data.mkdir()
        self.metrics = Metrics()
        self.settings = Settings(
            destinations=self.destinations,
            state=str(root / "state.db"),
            sendgrid_base_url=emulator.url,
            secret_env=("SENDGRID_API_KEY", "WAREHOUSE_DSN"),  # the warehouse tests' DSN
            job_poll_max_interval=0.05,
            job_timeout=30,
        )
        self.clock: Clock = SYSTEM_CLOCK
        self.ledger: Ledger = open_ledger(self.settings.state)

    def follow_the_loop(self) -> None:
        """Epoch time follows the (fake) loop time, for the ledger and the runs alike."""
        self.clock = LoopClock()
        self.ledger.close()
        self.ledger = open_ledger(self.settings.state, clock=self.clock)

    # -- sources -------------------------------------------------------------------------
    def csv(self, name: str, rows: Sequence[Row]) -> dict[str, Any]:
        path = self.data / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return {"csv": {"path": f"../data/{name}.csv"}}

    def jsonl(self, name: str, rows: Sequence[Row]) -> dict[str, Any]:
        path = self.data / f"{name}.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        return {"jsonl": {"path": f"../data/{name}.jsonl"}}

    def sqlite(self, name: str, rows: Sequence[Row]) -> dict[str, Any]:
        path = self.data / f"{name}.db"
        path.unlink(missing_ok=True)
        with sqlite3.connect(path) as db:
            db.execute(f"CREATE TABLE people ({', '.join(COLUMNS)})")
            db.executemany(
                "INSERT INTO people VALUES (?, ?, ?, ?)", [[r[c] for c in COLUMNS] for r in rows]
            )
        db.close()
        return {"sqlite": {"path": f"../data/{name}.db", "query": "SELECT * FROM people"}}

    # -- the destination -------------------------------------------------------------------
    def destination(
        self, segments: dict[str, dict[str, Any]], *, name: str = "members", **spec: Any
    ) -> None:
        document = {
            "apiVersion": "syncd/v1",
            "kind": "SendGridDestination",
            "metadata": {"name": name},
            "spec": {
                "sendgrid": {"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": TEST_LIST_ID},
                "consent": {"dataPrivacyAcknowledged": True},
                "segments": [{"name": n, "source": s} for n, s in segments.items()],
                "mapping": {
                    "email": "EmailAddress",
                    "first_name": "FirstName",
                    "last_name": "LastName",
                    "custom_fields": {"loyalty_tier": "Tier"},
                },
                **spec,
            },
        }
        (self.destinations / f"{name}.yaml").write_text(yaml.safe_dump(document))

    async def sync(self, name: str = "members", **options: Any) -> RunReport:
        catalog = load_directory(self.destinations, self.settings.allowlists())
        assert not catalog.problems, [str(p) for p in catalog.problems]
        async with aiohttp.ClientSession() as http:
            reconciler = Reconciler(
                self.ledger, http, self.settings, self.metrics, clock=self.clock
            )
            return await reconciler.run(catalog.destinations[name], **options)

    def members(self) -> set[str]:
        return self.emulator.state.list_members(TEST_LIST_ID)

    def sent_contacts(self) -> int:
        """Contacts carried by upserts so far."""
        return sum(
            r.contact_count or 0
            for r in self.emulator.requests
            if r.template == "PUT /v3/marketing/contacts" and r.status == 202
        )


@asynccontextmanager
async def world(tmp_path: Path, emulator: Emulator) -> AsyncIterator[World]:
    built = World(tmp_path, emulator)
    try:
        yield built
    finally:
        built.ledger.close()


__all__ = ["TEST_API_KEY", "World", "emails", "people", "world"]
