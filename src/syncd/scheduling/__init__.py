"""When destinations run: schedules, triggers, backoff, concurrency, status."""

from syncd.scheduling.scheduler import Scheduler, Suspended, UnknownDestination
from syncd.scheduling.worker import Runner

__all__ = ["Runner", "Scheduler", "Suspended", "UnknownDestination"]
