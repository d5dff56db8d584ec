"""`syncd probe --live`: settle, against a real account, what SendGrid does not document.

Steps: 1 the key's scopes; 2 a scratch list and custom fields; 3 three example contacts
in one upsert; 4 their job and its errors file; 5 how long until search shows them;
6 their removal from the list, its job, and how long until search shows it; 7 clean-up,
whatever happened; 8 the rate-limit headers seen on every answer.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from syncd.clock import SYSTEM_CLOCK
from syncd.destinations import SecretRef
from syncd.errors import SyncdError
from syncd.metrics import Metrics
from syncd.reconciling.connecting import key_client
from syncd.reconciling.probing import judging
from syncd.reconciling.probing.examples import Examples, Sent, send_examples
from syncd.reconciling.probing.findings import ProbeError, ProbeReport, ProbeStopped, unobserved
from syncd.reconciling.probing.pacing import Pace
from syncd.reconciling.probing.searching import remove, search
from syncd.reconciling.probing.settling import settle
from syncd.reconciling.probing.workspace import Workspace, clean_up, make_workspace
from syncd.sendgrid import RateGates, SendGridClient
from syncd.sendgrid.scopes import missing_scopes
from syncd.settings import Settings

INTERRUPTED = "interrupted (Ctrl-C or SIGTERM) before its last step"


@dataclass(frozen=True)
class ProbeOptions:
    list_name: str
    email_domain: str = "example.com"
    key_env: str = "SENDGRID_API_KEY"
    pace: Pace = field(default_factory=Pace)
    removal_window: float = 3600.0
    """syncd's SYNCD_REMOVAL_WINDOW, which a search lag must stay within."""


async def probe_live(settings: Settings, options: ProbeOptions, report: ProbeReport) -> None:
    """Connect with the key `options.key_env` names (held to SYNCD_SECRET_ENV), probe, and
    fill `report`, also when the probe is cancelled."""
    tally = judging.HeaderTally()
    gates = RateGates(SYSTEM_CLOCK, requests_per_second=settings.requests_per_second)
    async with aiohttp.ClientSession() as session:
        try:
            client, _ = await key_client(
                SecretRef(env=options.key_env),
                base_url=report.base_url,
                allowlists=settings.allowlists(),
                base_dir=Path.cwd(),
                what="--api-key-env",
                session=session,
                gates=gates,
                metrics=Metrics(),
                http_timeout=settings.http_timeout,
                on_reply=tally.observe,
            )
        except SyncdError as error:  # no key, or one the allowlists refuse
            report.error = ProbeError("cannotStart", error.message)
            return
        await run_probe(client, options, report, tally)


async def run_probe(
    client: SendGridClient,
    options: ProbeOptions,
    report: ProbeReport,
    tally: judging.HeaderTally,
) -> None:
    workspace = Workspace(Examples(secrets.token_hex(4), options.email_domain))
    try:
        await _steps(client, options, workspace, report)
    except SyncdError as error:
        made = workspace.list is not None
        report.error = ProbeError("stopped" if made else "cannotStart", error.message)
    except asyncio.CancelledError:
        report.error = ProbeError("interrupted", INTERRUPTED)
        raise
    finally:
        report.cleanup = await clean_up(client, workspace, options.pace)
        report.add(judging.rate_limit_headers(tally))


async def _steps(
    client: SendGridClient, options: ProbeOptions, workspace: Workspace, report: ProbeReport
) -> None:
    granted = await client.scopes()
    report.add(judging.scopes(granted))
    missing = missing_scopes(granted, removes=True)
    if missing:
        raise ProbeStopped(
            f"the key lacks {', '.join(missing)}: the probe needs every Marketing scope to "
            "make and delete its scratch list, custom fields and contacts; nothing was written"
        )
    await make_workspace(client, workspace, options.list_name)
    assert workspace.list is not None
    sent = Sent()
    await send_examples(
        client,
        workspace.examples,
        workspace.list.id,
        workspace.fields,
        sent,
        workspace.possibly_present,
    )
    report.add(judging.bad_values(sent))
    pace = options.pace
    fates = await settle(client, workspace, sent, pace, report)
    found = await search(client, workspace, fates, pace, options.removal_window, report)
    report.add(judging.invalid_email(fates["invalid"]))
    report.add(judging.blank_typed_values(fates["blank"], found.get("blank")))
    report.add(judging.date_format(fates["date"], found.get("date")))
    if found:
        await remove(client, workspace, list(found.values()), pace, report)
    else:
        why = "search found no example contact, so none could be removed by id"
        report.add(unobserved("removal-job-pollable", why))
        report.add(unobserved("removal-applied", why))
