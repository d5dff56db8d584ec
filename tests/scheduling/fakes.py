"""A runner that stands in for the reconciler: records when it ran and answers as told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from syncd.loading import LoadedDestination, load_directory
from syncd.reconciling import RunReport
from syncd.shapes import Outcome, Trigger
from tests.policy import allowing


@dataclass
class Call:
    name: str
    at: float
    trigger: str
    allow_removals: bool


@dataclass
class FakeRunner:
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)
    duration: float = 1.0
    calls: list[Call] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0

    async def run(
        self,
        loaded: LoadedDestination,
        *,
        trigger: Trigger = "schedule",
        allow_removals: bool = False,
        dry_run: bool = False,
        stopping: Callable[[], bool] = lambda: False,
        live: Any = None,
    ) -> RunReport:
        del dry_run, live
        loop = asyncio.get_running_loop()
        self.calls.append(Call(loaded.name, loop.time(), trigger, allow_removals))
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(self.duration)
        finally:
            self.running -= 1
        queue = self.outcomes.get(loaded.name, [])
        outcome: Outcome = queue.pop(0) if queue else "success"
        report = RunReport(loaded.name, trigger, outcome=outcome)
        if outcome != "success":
            report.error = f"{outcome} failure"
        if stopping():
            report.error = "stopped"
        return report

    def times(self, name: str) -> list[float]:
        return [round(c.at, 3) for c in self.calls if c.name == name]


def destination(directory: Path, name: str, **spec: Any) -> LoadedDestination:
    """Write a valid destination file and load it back."""
    document = {
        "apiVersion": "syncd/v1",
        "kind": "SendGridDestination",
        "metadata": {"name": name},
        "spec": {
            "sendgrid": {
                "apiKey": {"env": "SENDGRID_API_KEY"},
                "listId": f"00000000-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
            },
            "consent": {"dataPrivacyAcknowledged": True},
            "segments": [{"name": "all", "source": {"csv": {"path": "x.csv"}}}],
            "mapping": {"email": "Email"},
            **spec,
        },
    }
    (directory / f"{name}.yaml").write_text(yaml.safe_dump(document))
    catalog = load_directory(directory, allowing(directory))
    assert not catalog.problems, [str(p) for p in catalog.problems]
    return catalog.destinations[name]
