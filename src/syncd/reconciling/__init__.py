"""One run for one destination: read the segments, plan, apply through the outbox, record."""

from syncd.reconciling.applying import Progress, no_progress
from syncd.reconciling.run import Reconciler, RunReport

__all__ = ["Progress", "Reconciler", "RunReport", "no_progress"]
