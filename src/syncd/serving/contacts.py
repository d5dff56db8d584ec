"""`GET /v1/destinations/{name}/contacts/{email}`: `syncd explain EMAIL --destination NAME`.

The same explanation document (`syncd schema --explain`), from the daemon's own files,
ledger (read-only) and sources; `?live=true` adds what SendGrid's search shows now and
`?showEmails=true` the address whole. It shows a contact: a valid token is needed in
every configuration. The address goes percent-encoded in the path. One lookup at a time
per destination (it reads the segments in full: a second answers 409), within
SYNCD_PLAN_TIMEOUT (504). A destination neither the directory nor the ledger knows
answers 404 `unknownDestination`; an address nothing holds, 404 `unknownContact`.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from syncd.errors import DefinitionError
from syncd.loading import LoadedDestination, load_directory
from syncd.logs import scrub_data
from syncd.reconciling import Reconciler
from syncd.reconciling.contact_story import explain_document
from syncd.reconciling.explaining import email_key, gather
from syncd.serving.auth import AdminGate, problem
from syncd.settings import Settings


class Explainer:
    """Contact lookups on a reconciler over the daemon's ledger, read-only."""

    def __init__(self, reconciler: Reconciler, settings: Settings) -> None:
        self.reconciler = reconciler
        self.settings = settings
        self.busy: set[str] = set()

    async def destination(self, name: str) -> tuple[bool, LoadedDestination | None]:
        """Whether the directory or the ledger knows `name`, and its file if valid."""
        settings = self.settings
        catalog = await asyncio.to_thread(
            load_directory, settings.destinations, settings.allowlists()
        )
        if name in catalog.destinations:
            return True, catalog.destinations[name]
        names = await asyncio.to_thread(self.reconciler.ledger.destination_names)
        return name in names, None


async def get_contact(request: web.Request, gate: AdminGate, explainer: Explainer) -> web.Response:
    refused = await gate.personal_data_refusal(request)
    if refused is not None:
        return refused
    name = request.match_info["name"]
    show = _flag(request, "showEmails")
    try:
        email = email_key(request.match_info["email"])
    except DefinitionError as error:
        return problem(400, error.message, "invalidEmail")
    known, loaded = await explainer.destination(name)
    if not known:
        return problem(404, f"no destination named {name!r}", "unknownDestination")
    if name in explainer.busy:
        message = f"a lookup in {name} is running; ask again when it ends"
        return problem(409, message, "lookupInProgress")
    explainer.busy.add(name)
    stopped = False
    try:
        async with asyncio.timeout(explainer.settings.plan_timeout):
            facts = await gather(
                explainer.reconciler,
                explainer.reconciler.ledger,
                {name: loaded},
                email,
                live=_flag(request, "live"),
                stopping=lambda: stopped,
            )
    except TimeoutError:
        stopped = True
        timeout = explainer.settings.plan_timeout
        message = f"the lookup took longer than {timeout:.0f}s (SYNCD_PLAN_TIMEOUT) and was stopped"
        return problem(504, message, "timeout")
    finally:
        explainer.busy.discard(name)
    document = explain_document(facts, email, show_emails=show, asked=name)
    if not document.known:
        message = f"{document.email} is in no segment of {name} and syncd has no record of it"
        return problem(404, message, "unknownContact")
    return web.json_response(scrub_data(document.wire(), addresses=not show))


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "false").lower() in ("1", "true", "yes")
