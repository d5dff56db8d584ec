"""`syncd probe --live`: what SendGrid does not document, settled against a real account."""

from syncd.reconciling.probing.findings import (
    ASSUMPTIONS,
    BEHAVIOURS,
    Behaviour,
    Cleanup,
    Created,
    Finding,
    ProbeError,
    ProbeReport,
)
from syncd.reconciling.probing.pacing import Pace
from syncd.reconciling.probing.probe import ProbeOptions, probe_live, run_probe

__all__ = [
    "ASSUMPTIONS",
    "BEHAVIOURS",
    "Behaviour",
    "Cleanup",
    "Created",
    "Finding",
    "Pace",
    "ProbeError",
    "ProbeOptions",
    "ProbeReport",
    "probe_live",
    "run_probe",
]
