"""Pacing requests by what SendGrid says about its windows, shared per API key.

SendGrid publishes no numbers; every response carries `X-RateLimit-Remaining`
and `X-RateLimit-Reset` (epoch seconds) per endpoint. A gate remembers them and
holds requests while a window is known to be exhausted, so a storm of 429s
does not turn into a storm of retries inside the same window. An optional
requests-per-second budget paces destinations that share one key.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

from syncd.clock import Clock

# SendGrid's reset is whole seconds; a little slack keeps us from arriving early.
RESET_SLACK = 0.05
MAX_RESET_AHEAD = 300.0
"""The furthest ahead a window's reset is believed. SendGrid publishes no window for the
Marketing endpoints; a reset further ahead (a wrong clock, milliseconds for seconds, a
year 3000) is taken as this, and asked again then: an answer must not hold a key's
requests for days."""


@dataclass
class _Window:
    remaining: int | None
    reset_at: float


class RateGate:
    def __init__(
        self, clock: Clock, *, requests_per_second: float | None = None, jitter: float = 0.25
    ) -> None:
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self._next_slot = 0.0
        self._jitter = jitter
        self._lock = asyncio.Lock()
        self._waits = 0
        self._waits_end: float | None = None

    def held_until(self) -> float | None:
        """While requests of this key wait for a window's reset: when the last of those
        waits ends (the runs' progress says so); otherwise None."""
        return self._waits_end if self._waits else None

    async def acquire(self, endpoint: str) -> float:
        """Wait until a request to `endpoint` may go; returns the seconds spent waiting."""
        waited = 0.0
        while True:
            window = self._windows.get(endpoint)
            now = self.clock.now()
            if window is None or window.reset_at <= now:
                self._windows.pop(endpoint, None)
                break
            if window.remaining is None or window.remaining > 0:
                window.remaining = None if window.remaining is None else window.remaining - 1
                break
            pause = window.reset_at - now + RESET_SLACK + random.uniform(0, self._jitter)
            self._waits += 1
            self._waits_end = max(self._waits_end or 0.0, now + pause)
            try:
                await asyncio.sleep(pause)
            finally:
                self._waits -= 1
                if not self._waits:
                    self._waits_end = None
            waited += pause
        if self._interval:
            waited += await self._pace()
        return waited

    async def _pace(self) -> float:
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        pause = slot - now
        if pause > 0:
            await asyncio.sleep(pause)
        return max(pause, 0.0)

    def observe(self, endpoint: str, headers: Mapping[str, str]) -> int | None:
        """Learn from a response's headers (a case-insensitive mapping: SendGrid spells them
        `X-Ratelimit-*`); returns the remaining count if given."""
        try:
            remaining = int(headers["X-RateLimit-Remaining"])
            reset_at = float(headers["X-RateLimit-Reset"])
        except (KeyError, ValueError):
            return None
        if remaining < 0 or not math.isfinite(reset_at):
            return None
        self._windows[endpoint] = _Window(remaining, self._believed(reset_at))
        return remaining

    def exhausted(self, endpoint: str, reset_at: float | None) -> float:
        """A 429: nothing more until the reset (or a second, when the server did not say);
        returns the reset believed (`MAX_RESET_AHEAD`)."""
        believed = self._believed(reset_at or self.clock.now() + 1.0)
        self._windows[endpoint] = _Window(0, believed)
        return believed

    def _believed(self, reset_at: float) -> float:
        return min(reset_at, self.clock.now() + MAX_RESET_AHEAD)


class RateGates:
    """One gate per API key, so destinations sharing a key share its budget."""

    def __init__(self, clock: Clock, *, requests_per_second: float | None = None) -> None:
        self.clock = clock
        self.requests_per_second = requests_per_second
        self._gates: dict[str, RateGate] = {}

    def for_key(self, key_id: str) -> RateGate:
        gate = self._gates.get(key_id)
        if gate is None:
            gate = RateGate(self.clock, requests_per_second=self.requests_per_second)
            self._gates[key_id] = gate
        return gate
