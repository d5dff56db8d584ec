"""What a benchmark run covers (its sizes and scenarios) and what it has measured so far."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.common import Result, say
from bench.emulator import EmulatorProcess
from bench.floor import Floor
from bench.syncing import World

if TYPE_CHECKING:
    from bench.peers import PeerRun

B1_TARGET_S = 30.0
B2_TARGET_RATIO = 3.0
B2_TARGET_RSS_MB = 250.0
LINEAR_TOLERANCE = 1.25  # cost per profile may grow this much from one size to the next
FLAT_TOLERANCE = 1.15  # peak RSS may grow this much from the smallest size to the largest
SELECTABLE = ("B1", "B2", "B3", "B4", "SCALING", "AUDIT", "DAEMON")
_LIST_NAMESPACE = uuid.UUID("5b7c0e9a-3f1d-4c2b-9a8e-6d5f4c3b2a10")


def label(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def world_name(backend: str, size: int) -> str:
    """The destination's metadata.name: lower-case, as syncd requires."""
    return f"{backend}-{label(size).lower()}"


def list_id(name: str) -> str:
    return str(uuid.uuid5(_LIST_NAMESPACE, name))


@dataclass(frozen=True)
class Plan:
    """Sizes: the full run, or `--quick` (a smoke test of the harness, no targets)."""

    b1: int
    sqlite_sizes: tuple[int, ...]
    postgres_sizes: tuple[int, ...]
    b3: int
    headline: int  # the B2 size the targets are stated for

    @staticmethod
    def make(*, quick: bool, skip_10m: bool) -> Plan:
        if quick:
            return Plan(10_000, (10_000, 100_000), (100_000,), 100_000, 100_000)
        postgres = (1_000_000,) if skip_10m else (1_000_000, 10_000_000)
        return Plan(100_000, (10_000, 100_000, 1_000_000), postgres, 1_000_000, 1_000_000)

    @property
    def peer_sizes(self) -> tuple[int, ...]:
        """The sizes the peer (bench/peer.py) exports and refreshes beside syncd."""
        return (self.b1, self.b3)

    def worlds(self) -> list[str]:
        return (
            [world_name("sqlite", n) for n in self.sqlite_sizes]
            + [world_name("pg", n) for n in self.postgres_sizes]
            + [world_name("peer", n) for n in self.peer_sizes]
        )


@dataclass
class Bench:
    plan: Plan
    only: frozenset[str]
    profile: bool = False
    quick: bool = False
    results: list[Result] = field(default_factory=list)
    floors: dict[str, Floor] = field(default_factory=dict)
    worlds: dict[str, World] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    emulator: EmulatorProcess | None = None
    postgres_problem: str | None = None
    peer_runs: dict[str, PeerRun] = field(default_factory=dict)

    def wants(self, key: str) -> bool:
        return key in self.only

    def add(self, result: Result) -> Result:
        self.results.append(result)
        verdict = {True: "met", False: "MISSED", None: ""}[result.met]
        wall = f"{result.wall_s:.2f}s" if result.wall_s is not None else ""
        say(f"  {result.scenario}: {wall} {verdict} {result.note}".rstrip())
        return result

    def phase(self, name: str, started: float) -> None:
        self.phases[name] = round(self.phases.get(name, 0.0) + time.perf_counter() - started, 2)

    @property
    def url(self) -> str:
        assert self.emulator is not None
        return self.emulator.url
