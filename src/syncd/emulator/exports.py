"""Contact exports: pending for `export_delay` seconds, then the account as it is at that
moment, written into one or more files.

At the due moment the export takes a snapshot, which is cheap because a changed contact is
a new object (see `Store`): the contacts it exports and the members of every list. It then
writes the files in the background, yielding to the loop as it goes, so jobs and requests
go on while a million contacts are written; the export is `ready` once every file is.
Files are kept gzip'd in memory (see `export_files`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from syncd.emulator.export_files import ExportFile, FileLayout, write_files
from syncd.emulator.store import Store, iso_timestamp

ExportStatus = Literal["pending", "ready", "failure"]
EXPORT_LIFETIME = 72 * 3600.0  # how long SendGrid keeps export files; only shown in expires_at

logger = logging.getLogger("syncd.emulator")


@dataclass
class Export:
    id: str
    list_ids: list[str]  # empty: every contact
    layout: FileLayout  # file type, split sizes, gzip, header case: fixed when requested
    base_url: str  # of the links inside the exported contacts
    delay: float  # loop-time seconds before the snapshot
    created_at: str
    expires_at: str
    failure: str | None = None  # set by an injected job_failed fault
    stuck: bool = False  # an injected export_stuck fault: never leaves `pending`
    cut_short: bool = False  # an injected export_cut_short fault: each file's bytes halved
    status: ExportStatus = "pending"
    completed_at: str | None = None
    files: list[ExportFile] = field(default_factory=list)

    @property
    def contact_count(self) -> int:
        return sum(written.rows for written in self.files)


class ExportRunner:
    """Holds every export and the background tasks that make them."""

    def __init__(self, store: Store, wall_clock: Callable[[], float]) -> None:
        self._store = store
        self._wall_clock = wall_clock
        self.exports: dict[str, Export] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, export: Export) -> None:
        self.exports[export.id] = export
        if export.stuck:
            return  # pollable, pending for good
        task = asyncio.create_task(self._make(export), name=f"syncd-emulator-export-{export.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _make(self, export: Export) -> None:
        await asyncio.sleep(export.delay)
        if export.failure is None:
            try:
                export.files = await write_files(
                    self._store, export.list_ids, export.layout, export.base_url
                )
                if export.cut_short:
                    export.files = [cut_short(written) for written in export.files]
            except Exception:
                logger.exception("emulator export %s could not be written", export.id)
                export.failure = "internal error"
        export.status = "ready" if export.failure is None else "failure"
        export.completed_at = iso_timestamp(self._wall_clock())


def cut_short(written: ExportFile) -> ExportFile:
    """The file with the second half of its stored bytes lost, its row count unchanged."""
    return replace(written, gzipped=written.gzipped[: len(written.gzipped) // 2])


def expiry(created: float) -> str:
    return iso_timestamp(created + EXPORT_LIFETIME)


def file_url(export: Export, number: int, base_url: str) -> str:
    """Where file `number` (from 1) is downloaded; its name says csv or json even gzip'd."""
    return f"{base_url}/_emulator/files/exports/{export.id}/{number}.{export.layout.file_type}"


def export_view(export: Export, base_url: str) -> dict[str, object]:
    """A `ContactExport`; `urls` and `contact_count` once ready, `message` on failure."""
    view: dict[str, object] = {
        "id": export.id,
        "status": export.status,
        "created_at": export.created_at,
        "updated_at": export.completed_at or export.created_at,
        "expires_at": export.expires_at,
        "_metadata": {"self": f"{base_url}/v3/marketing/contacts/exports/{export.id}"},
    }
    if export.status == "ready":
        view.update(
            completed_at=export.completed_at,
            urls=[file_url(export, n, base_url) for n in range(1, len(export.files) + 1)],
            contact_count=export.contact_count,
        )
    elif export.status == "failure":
        view.update(completed_at=export.completed_at, message=export.failure or "")
    return view
