"""The audit's world: segment files, a destination, a ledger and the emulator over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from syncd.emulator import Emulator
from syncd.loading import load_directory
from syncd.reconciling import Reconciler
from syncd.reconciling.auditing import Auditor, AuditRequest
from syncd.shapes import AuditReport
from tests.fixtures_emulator import TEST_API_KEY, TEST_LIST_ID
from tests.reconciling.world import World


class AuditWorld(World):
    """A `World` whose audits take every contact into account (no settle window)."""

    def __init__(self, root: Path, emulator: Emulator, **settings: Any) -> None:
        super().__init__(root, emulator)
        self.settings = self.settings.model_copy(update={"audit_settle_window": 0.0, **settings})

    async def audit(
        self,
        name: str = "members",
        *,
        stopping: Callable[[], bool] = lambda: False,
        **request: Any,
    ) -> AuditReport:
        catalog = load_directory(self.destinations, self.settings.allowlists())
        async with aiohttp.ClientSession() as http:
            reconciler = Reconciler(
                self.ledger, http, self.settings, self.metrics, clock=self.clock
            )
            return await Auditor(reconciler).audit(
                catalog.destinations[name], AuditRequest(**request), stopping=stopping
            )

    async def hand_edits(self, *edits: dict[str, Any]) -> None:
        """As a marketer in SendGrid's UI: at once, without jobs."""
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.emulator.url}/_emulator/hand-edits", json=list(edits)) as reply,
        ):
            assert reply.status == 200, await reply.text()

    def knobs(self, **changes: object) -> None:
        services = self.emulator.services
        services.behaviour = services.behaviour.changed(changes)


def unlist(*emails: str) -> dict[str, Any]:
    return {"op": "unlist", "list_id": TEST_LIST_ID, "emails": list(emails)}


def add_to_list(*emails: str) -> dict[str, Any]:
    return {"op": "list", "list_id": TEST_LIST_ID, "emails": list(emails)}


def set_first_name(value: str, *emails: str) -> dict[str, Any]:
    return {"op": "set_fields", "emails": list(emails), "fields": {"first_name": value}}


@pytest.fixture
async def audit_world(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AuditWorld]:
    monkeypatch.setenv("SENDGRID_API_KEY", TEST_API_KEY)
    built = AuditWorld(tmp_path, emulator)
    try:
        yield built
    finally:
        built.ledger.close()
