"""Running the reconciler inside the command's own process (plan, sync without a daemon)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from syncd.errors import DefinitionError
from syncd.ledger import Ledger
from syncd.loading import LoadedDestination, load_directory
from syncd.metrics import Metrics
from syncd.reconciling import Reconciler, RunProgress, RunReport
from syncd.settings import Settings


def find_destination(settings: Settings, name: str) -> LoadedDestination:
    """The named destination, or an error that says what is wrong with its file."""
    catalog = load_directory(settings.destinations, settings.allowlists())
    if name in catalog.destinations:
        return catalog.destinations[name]
    problems = [str(p) for p in catalog.problems]
    known = ", ".join(sorted(catalog.destinations)) or "none"
    detail = ("\n" + "\n".join(problems)) if problems else ""
    raise DefinitionError(
        f"no valid destination named {name!r} in {settings.destinations} (valid: {known})" + detail
    )


@asynccontextmanager
async def local_reconciler(settings: Settings, ledger: Ledger) -> AsyncIterator[Reconciler]:
    """A reconciler of this process's own, for the block's duration."""
    async with aiohttp.ClientSession() as http:
        yield Reconciler(ledger, http, settings, Metrics())


async def reconcile_once(
    settings: Settings,
    ledger: Ledger,
    loaded: LoadedDestination,
    *,
    dry_run: bool,
    allow_removals: bool = False,
    live: RunProgress | None = None,
) -> RunReport:
    async with local_reconciler(settings, ledger) as reconciler:
        return await reconciler.run(
            loaded,
            trigger="manual",
            dry_run=dry_run,
            allow_removals=allow_removals,
            live=live,
        )
