"""The status without a daemon: the destination files and the ledger's kept runs, through
the same status machine the daemon restores itself with, so both show one document."""

from __future__ import annotations

import time

from syncd.ledger import open_ledger
from syncd.loading import Problem, load_directory
from syncd.scheduling import DestinationStatus, status_document
from syncd.scheduling.drift import drift_from_record
from syncd.scheduling.status import problem_shape
from syncd.settings import Settings
from syncd.shapes import StatusDocument

NO_FILE = "(no valid file)"


def status_from_ledger(settings: Settings) -> StatusDocument:
    catalog = load_directory(settings.destinations, settings.allowlists())
    ledger = open_ledger(settings.state, writer=False)
    try:
        summaries = {s.destination: s for s in ledger.summaries()}
        runs = {name: ledger.runs(name, limit=settings.keep_runs) for name in summaries}
        drifts = ledger.drifts()
    finally:
        ledger.close()
    statuses: list[DestinationStatus] = []
    now = time.time()
    for name, loaded in catalog.destinations.items():
        spec = loaded.definition.spec
        status = DestinationStatus(
            name,
            loaded.path.name,
            loaded.digest,
            display_name=spec.display_name,
            suspended=spec.suspend,
            owned=True,
        )
        status.file_checked([], now)
        statuses.append(status)
    invalid = sorted(key for key, result in catalog.files.items() if not result.valid)
    for name in sorted(summaries.keys() - catalog.destinations.keys()):
        if not invalid:
            continue  # its file is gone: not a destination now, as the daemon has it
        # Its file may be one of the invalid ones: a daemon that loaded it runs it on.
        status = DestinationStatus(name, NO_FILE, "", owned=True)
        message = (
            f"no valid file in {settings.destinations} defines {name!r} now (invalid: "
            f"{', '.join(invalid)}); a running daemon that loaded it before keeps running "
            "its last good version"
        )
        status.file_checked([problem_shape(Problem(NO_FILE, None, None, message))], now)
        statuses.append(status)
    for status in statuses:
        summary = summaries.get(status.name)
        if summary is not None:
            status.restore(
                runs[status.name] or [summary.last_run], last_success_at=summary.last_success_at
            )
        drift = drifts.get(status.name)
        if drift is not None:
            status.show_drift(drift_from_record(drift), drift.audited_at)
    shapes = [s.shape() for s in sorted(statuses, key=lambda s: s.name)]
    return status_document(shapes, catalog.problems, invalid)
