"""Per-endpoint rate limits: fixed windows per (API key, endpoint template) on the wall clock."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from syncd.emulator import rules
from syncd.emulator.config import RateBudget
from syncd.emulator.profiles import HeaderCase


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # Unix epoch seconds when the window ends

    def headers(self, case: HeaderCase) -> dict[str, str]:
        limit, remaining, reset = rules.RATE_LIMIT_HEADERS[case]
        return {limit: str(self.limit), remaining: str(self.remaining), reset: str(self.reset)}


@dataclass
class _Window:
    started_at: float
    used: int = 0


class RateLimiter:
    def __init__(
        self, budget_for: Callable[[str], RateBudget], wall_clock: Callable[[], float]
    ) -> None:
        self._budget_for = budget_for
        self._wall_clock = wall_clock
        self._windows: dict[tuple[str, str], _Window] = {}

    def take(self, key: str, template: str) -> RateDecision:
        """Counts one request; refused ones are not counted (they are not applied either)."""
        budget = self._budget_for(template)
        now = self._wall_clock()
        window = self._windows.get((key, template))
        if window is None or now >= window.started_at + budget.window:
            window = self._windows[(key, template)] = _Window(started_at=now)
        reset = math.ceil(window.started_at + budget.window)
        if window.used >= budget.limit:
            return RateDecision(allowed=False, limit=budget.limit, remaining=0, reset=reset)
        window.used += 1
        return RateDecision(
            allowed=True, limit=budget.limit, remaining=budget.limit - window.used, reset=reset
        )

    def storm(self, template: str, reset_at: float) -> RateDecision:
        """What an injected storm answers: nothing left until `reset_at`."""
        limit = self._budget_for(template).limit
        return RateDecision(allowed=False, limit=limit, remaining=0, reset=math.ceil(reset_at))
