"""When destinations run: schedules, triggers, backoff, concurrency, status."""

from syncd.scheduling.restoring import Past
from syncd.scheduling.runners import Runner
from syncd.scheduling.scheduler import Scheduler, Suspended, UnknownDestination
from syncd.scheduling.status import DestinationStatus, history_shape
from syncd.scheduling.status_overview import status_document

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
