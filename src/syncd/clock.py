"""Wall-clock time that can follow the event loop's (possibly fake) time in tests.

SendGrid speaks epoch seconds (`X-RateLimit-Reset`, timestamps in the ledger);
waiting is done on the loop (`wait_any`). A `LoopClock` keeps the two consistent when
tests fast-forward the loop.
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
    """Epoch time advancing with the running loop's `time()`, anchored at the first call."""

    def __init__(self) -> None:
        self._anchor: tuple[asyncio.AbstractEventLoop, float, float] | None = None

    def now(self) -> float:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a worker thread (the ledger): follow the anchored loop
            if self._anchor is None:
                return time.time()
            loop = self._anchor[0]
        if self._anchor is None or self._anchor[0] is not loop:
            self._anchor = (loop, time.time(), loop.time())
        _, wall, at = self._anchor
        return wall + (loop.time() - at)


SYSTEM_CLOCK = SystemClock()


async def wait_any(*events: asyncio.Event, seconds: float | None, name: str) -> None:
    """Until any of the events is set, or `seconds` of loop time have passed (None: no limit).

    Each event is waited on in a task named `name`; all are cancelled and awaited before
    returning, so none outlives the wait.
    """
    waiters = [asyncio.create_task(event.wait(), name=name) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
