"""Waiting for SendGrid: polling a job, or a search, once a second up to `--max-wait`.

Times are measured on the event loop's clock, so that tests can run on fake time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from syncd.sendgrid import Job, SendGridClient

T = TypeVar("T")


@dataclass(frozen=True)
class Pace:
    max_wait: float = 600.0
    """The longest any one wait lasts (a job, a search, a removal)."""
    interval: float = 1.0
    unknown_job_grace: float = 10.0
    """How long a 404 for a job just accepted means "not pollable", not "not registered yet"."""


def now() -> float:
    return asyncio.get_running_loop().time()


async def poll(check: Callable[[], Awaitable[T | None]], pace: Pace) -> tuple[T | None, float]:
    """`check()` every `interval` until it returns something or `max_wait` passes; what it
    returned last (None if nothing) and the seconds waited."""
    started = now()
    while True:
        found = await check()
        waited = now() - started
        if found is not None or waited >= pace.max_wait:
            return found, waited
        await asyncio.sleep(min(pace.interval, pace.max_wait - waited))


async def wait_for_job(
    client: SendGridClient, job_id: str, pace: Pace, *, unknown_grace: float | None = None
) -> tuple[Job | None, float]:
    """The job once finished, or as last seen when `max_wait` passed; None when SendGrid did
    not know it for `unknown_grace` seconds (all of `max_wait` by default). And the seconds
    waited."""
    grace = pace.max_wait if unknown_grace is None else min(unknown_grace, pace.max_wait)
    started = now()
    seen: Job | None = None
    while True:
        job = await client.job(job_id)
        waited = now() - started
        if job is not None:
            seen = job
            if job.finished:
                return job, waited
        elif seen is None and waited >= grace:
            return None, waited
        if waited >= pace.max_wait:
            return seen, waited
        await asyncio.sleep(min(pace.interval, pace.max_wait - waited))
