"""One run for one destination: read the segments, plan, apply through the outbox, record."""

from syncd.reconciling.progress import RunProgress
from syncd.reconciling.report import RunReport
from syncd.reconciling.run import Reconciler

__all__ = ["Reconciler", "RunProgress", "RunReport"]
