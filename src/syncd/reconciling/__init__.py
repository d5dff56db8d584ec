"""One run for one destination: read the segments, plan, apply through the outbox, record."""

from syncd.reconciling.run import Reconciler, RunReport

__all__ = ["Reconciler", "RunReport"]
