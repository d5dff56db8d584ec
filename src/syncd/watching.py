"""Watching `destinations.d/`: events and a timer wake a rescan; only real changes publish.

A Kubernetes ConfigMap update swaps a hidden `..data` symlink and watchfiles reports
only hidden paths, so an event is never trusted for *what* changed: it is only a
wake-up, debounced, followed by a full rescan of the visible files. A timer (and
SIGHUP) rescans too, for filesystems that send no events.

What a scan publishes is the *effective* set of destinations:

* a valid file contributes its destination;
* an invalid file keeps its last good version running (and is reported);
* a file that disappears is dropped only when it is absent two scans in a row,
  so a half-finished swap never stops a destination;
* a directory refused as a whole (too big, unreadable) changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from syncd.allowlists import Allowlists
from syncd.clock import SYSTEM_CLOCK, Clock, wait_any
from syncd.loading import Catalog, FirstClaimWins, LoadedDestination, Problem, load_directory
from syncd.logs import get_logger
from syncd.metrics import Metrics

log = get_logger("syncd.watching")
_WAIT = "watching:wait"


@dataclass(frozen=True)
class Desired:
    """The destinations the daemon should run, and what is wrong with the files."""

    destinations: Mapping[str, LoadedDestination]
    problems: tuple[Problem, ...]
    invalid_files: tuple[str, ...]
    stale: Mapping[str, tuple[Problem, ...]] = field(default_factory=dict)
    """Destinations running a last good version because their file is now invalid."""

    @property
    def digest(self) -> str:
        parts = sorted(f"{n}:{d.digest}" for n, d in self.destinations.items())
        parts += sorted(str(p) for p in self.problems)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class Merger:
    """Turns successive catalogs into the effective desired set (the rules above)."""

    def __init__(self) -> None:
        self._last_good: dict[str, LoadedDestination] = {}
        self._missing: dict[str, int] = {}
        self._previous: Desired | None = None

    def merge(self, catalog: Catalog) -> Desired | None:
        if not catalog.complete:
            return self._previous
        kept: dict[str, LoadedDestination] = {}
        stale: dict[str, tuple[Problem, ...]] = {}
        for key, result in catalog.files.items():
            self._missing.pop(key, None)
            if result.destination is not None:
                self._last_good[key] = result.destination
                kept[key] = result.destination
            elif key in self._last_good:
                kept[key] = self._last_good[key]
                stale[self._last_good[key].name] = result.problems
        for key in list(self._last_good):
            if key in catalog.files:
                continue
            self._missing[key] = self._missing.get(key, 0) + 1
            if self._missing[key] >= 2:
                del self._last_good[key], self._missing[key]
            else:
                kept[key] = self._last_good[key]
        # A currently valid file wins over a kept last-good version for a name or a list:
        # one name one destination, one list one owner (`loading.owners`), even across a
        # broken file.
        valid_now = {k for k, r in catalog.files.items() if r.valid}
        by_name: dict[str, LoadedDestination] = {}
        owners = FirstClaimWins()
        problems = list(catalog.problems)
        for key in sorted(kept, key=lambda k: (k not in valid_now, k)):
            destination = kept[key]
            clash = owners.claim(key, destination.definition)
            if clash is None:
                by_name[destination.name] = destination
            elif clash.claimed == "list":
                list_id = destination.definition.spec.sendgrid.list_id
                problems.append(
                    Problem(
                        key,
                        None,
                        None,
                        f"stopped: list {list_id} is now targeted by {clash.others[0]}; "
                        "fix this file",
                    )
                )
                stale.pop(destination.name, None)
        invalid = tuple(sorted(k for k, r in catalog.files.items() if not r.valid))
        self._previous = Desired(by_name, tuple(problems), invalid, stale)
        return self._previous


class Watcher:
    def __init__(
        self,
        directory: Path,
        publish: Callable[[Desired], Awaitable[None]],
        metrics: Metrics,
        *,
        allowlists: Allowlists,
        rescan_interval: float,
        debounce: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.directory = directory
        self.publish = publish
        self.metrics = metrics
        self.allowlists = allowlists
        self.rescan_interval = rescan_interval
        self.debounce = debounce
        self.clock = clock
        self.merger = Merger()
        self.wake = asyncio.Event()
        self.loaded = asyncio.Event()
        self._published_digest: str | None = None

    async def scan(self) -> None:
        """Rescan now; publish if the effective set or its problems changed."""
        catalog = await asyncio.to_thread(load_directory, self.directory, self.allowlists)
        desired = self.merger.merge(catalog)
        if desired is None:
            log.error("config.directory_refused", problems=[str(p) for p in catalog.problems])
            self.metrics.config_reloads.labels(result="refused").inc()
            return
        self.metrics.config_invalid_files.set(len(desired.invalid_files))
        if desired.digest == self._published_digest:
            return
        self._published_digest = desired.digest
        result = "invalid" if desired.problems else "success"
        self.metrics.config_reloads.labels(result=result).inc()
        if not desired.problems:
            self.metrics.config_last_reload_success.set(self.clock.now())
        for problem in desired.problems:
            log.warning("config.problem", problem=str(problem))
        log.info(
            "config.loaded",
            destinations=sorted(desired.destinations),
            invalid_files=list(desired.invalid_files),
        )
        await self.publish(desired)
        self.loaded.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Scan at start, then on every wake-up (events, timer, SIGHUP) until `stop`."""
        events = asyncio.create_task(self._events(stop), name="watching:events")
        try:
            while not stop.is_set():
                await self.scan()
                await wait_any(self.wake, stop, seconds=self.rescan_interval, name=_WAIT)
                if self.wake.is_set() and not stop.is_set():
                    await wait_any(stop, seconds=self.debounce, name=_WAIT)  # let a burst settle
                self.wake.clear()
        finally:
            events.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await events

    async def _events(self, stop: asyncio.Event) -> None:
        try:
            async for _ in watchfiles.awatch(
                self.directory, stop_event=stop, debounce=50, recursive=True, rust_timeout=1000
            ):
                self.wake.set()
        except (FileNotFoundError, OSError) as error:
            # A missing or unwatchable directory: the timer still rescans it.
            log.warning("config.watch_unavailable", error=str(error))
