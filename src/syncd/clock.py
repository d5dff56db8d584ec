"""Wall-clock time that can follow the event loop's (possibly fake) time in tests.

SendGrid speaks epoch seconds (`X-RateLimit-Reset`, timestamps in the ledger);
waiting is done on the loop. A `LoopClock` keeps the two consistent when tests
fast-forward the loop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class LoopClock:
    """Epoch time anchored now, advancing with the running loop's `time()`."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()
        self._anchor_wall = time.time()
        self._anchor_loop = self._loop.time()

    def now(self) -> float:
        return self._anchor_wall + (self._loop.time() - self._anchor_loop)


SYSTEM_CLOCK = SystemClock()
