"""When destinations run: schedules, triggers, backoff, concurrency, status."""

from syncd.scheduling.runners import Runner
from syncd.scheduling.scheduler import (
    Past,
    Scheduler,
    Suspended,
    UnknownDestination,
    status_document,
)
from syncd.scheduling.status import DestinationStatus, history_shape

__all__ = [
    "DestinationStatus",
    "Past",
    "Runner",
    "Scheduler",
    "Suspended",
    "UnknownDestination",
    "history_shape",
    "status_document",
]
