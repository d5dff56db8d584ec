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


PERIOD_HORIZON = 8 * 86400.0
PERIOD_MAX_FIRINGS = 2100


def period(schedule: Schedule, *, now: float) -> float:
    """The longest gap between two scheduled runs, over the next week or so.

    For a cron this is the longest gap in its cycle (a weekday-only schedule's is the
    weekend), so an alert on "no success for two periods" never fires on a quiet day.
    """
    if schedule.interval is not None:
        return schedule.interval.total_seconds()
    assert schedule.cron is not None
    zone = ZoneInfo(schedule.timezone)
    runs = croniter(schedule.cron, datetime.fromtimestamp(now, UTC).astimezone(zone))
    previous: float = runs.get_next(datetime).timestamp()
    longest = 0.0
    for _ in range(PERIOD_MAX_FIRINGS):
        fire: float = runs.get_next(datetime).timestamp()
        longest = max(longest, fire - previous)
        if fire - now > PERIOD_HORIZON:
            break
        previous = fire
    return longest


def backoff(failures: int, *, retry_after: float | None, cap: float, rng: random.Random) -> float:
    """Seconds to wait after the n-th failure in a row: exponential, jittered, capped,
    and never earlier than the server asked."""
    ceiling = min(cap, BACKOFF_BASE * 2 ** max(0, failures - 1))
    delay = rng.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)
