"""When a destination runs next: intervals, cron, jitter and backoff. Pure arithmetic."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from syncd.destinations import Schedule

BACKOFF_BASE = 5.0


def next_run(
    schedule: Schedule, *, last_start: float | None, now: float, rng: random.Random
) -> float:
    """Epoch seconds of the next scheduled run.

    An interval counts from the start of the previous run (a slow run does not push
    the rhythm); a run overdue since a restart runs now. Jitter is added on top.
    """
    jitter = rng.uniform(0, schedule.jitter.total_seconds()) if schedule.jitter else 0.0
    if schedule.interval is not None:
        if last_start is None:
            return now + jitter
        return max(now, last_start + schedule.interval.total_seconds()) + jitter
    assert schedule.cron is not None
    zone = ZoneInfo(schedule.timezone)
    base = datetime.fromtimestamp(now, UTC).astimezone(zone)
    fire: datetime = croniter(schedule.cron, base).get_next(datetime)
    return fire.timestamp() + jitter


def period(schedule: Schedule, *, now: float) -> float:
    """Seconds between two scheduled runs (for a cron, the gap after the next firing)."""
    if schedule.interval is not None:
        return schedule.interval.total_seconds()
    assert schedule.cron is not None
    zone = ZoneInfo(schedule.timezone)
    runs = croniter(schedule.cron, datetime.fromtimestamp(now, UTC).astimezone(zone))
    first: datetime = runs.get_next(datetime)
    second: datetime = runs.get_next(datetime)
    return (second - first).total_seconds()


def backoff(failures: int, *, retry_after: float | None, cap: float, rng: random.Random) -> float:
    """Seconds to wait after the n-th failure in a row: exponential, jittered, capped,
    and never earlier than the server asked."""
    ceiling = min(cap, BACKOFF_BASE * 2 ** max(0, failures - 1))
    delay = rng.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)
