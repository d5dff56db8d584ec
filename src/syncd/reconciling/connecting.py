"""A SendGrid client for an API key: where the key comes from, and where it may be sent.

One rule for every command that talks to SendGrid (a run, `syncd validate --online`,
`syncd probe --live`): the key is read through the operator's allowlists, and sent only
to `SYNCD_SENDGRID_BASE_URL` when set, else to the destination's allowed `baseUrl`, else
to SendGrid's API.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import aiohttp

from syncd.allowlists import Allowlists, NotAllowed
from syncd.credentials import fetch_secret, read_secret
from syncd.destinations import SecretRef
from syncd.errors import DefinitionError
from syncd.loading import LoadedDestination
from syncd.metrics import Metrics
from syncd.sendgrid import RateGates, SendGridClient, SendGridHttp
from syncd.sendgrid.replies import Reply
from syncd.settings import Settings

DEFAULT_BASE_URL = "https://api.sendgrid.com"


async def destination_client(
    loaded: LoadedDestination,
    settings: Settings,
    session: aiohttp.ClientSession,
    gates: RateGates,
    metrics: Metrics,
) -> tuple[SendGridClient, str]:
    """The client for a destination's key, and the key's identity (a hash)."""
    sendgrid = loaded.definition.spec.sendgrid
    if sendgrid.base_url is not None:  # checked when loaded; the key must never follow it
        try:
            loaded.allowlists.check_sendgrid_url(sendgrid.base_url)
        except NotAllowed as refused:
            message = f"spec.sendgrid.baseUrl: {sendgrid.base_url} {refused}"
            raise DefinitionError(message) from None
    return await key_client(
        sendgrid.api_key,
        base_url=settings.sendgrid_base_url or sendgrid.base_url or DEFAULT_BASE_URL,
        allowlists=loaded.allowlists,
        base_dir=loaded.path.parent,
        what="spec.sendgrid.apiKey",
        session=session,
        gates=gates,
        metrics=metrics,
        http_timeout=settings.http_timeout,
    )


async def key_client(
    ref: SecretRef,
    *,
    base_url: str,
    allowlists: Allowlists,
    base_dir: Path,
    what: str,
    session: aiohttp.ClientSession,
    gates: RateGates,
    metrics: Metrics,
    http_timeout: float,
    on_reply: Callable[[str, Reply], None] | None = None,
) -> tuple[SendGridClient, str]:
    """The client for the key `ref` names (`what` says where it was named, for messages),
    sending to `base_url`; and the key's identity (a hash)."""
    key = await fetch_secret(ref, base_dir=base_dir, what=what, allowlists=allowlists)
    first = [key]

    def api_key() -> str:
        # The first call takes the key read off the loop; a re-read after a 401 is
        # bounded and never waits (a FIFO or a device is refused at once).
        if first:
            return first.pop()
        return read_secret(ref, base_dir=base_dir, what=what, allowlists=allowlists)

    key_id = hashlib.sha256(key.encode()).hexdigest()
    http = SendGridHttp(
        session,
        base_url,
        api_key,
        gates.for_key(key_id),
        metrics,
        key_hint=ref.describe(),
        timeout=http_timeout,
        on_reply=on_reply,
    )
    return SendGridClient(http), key_id
