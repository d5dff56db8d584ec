"""`syncd plan --remote URL --file PATH ...`: the deployed daemon plans candidate files.

For a CI job that has neither the ledger nor the sources: the files go to the daemon as
one `POST /v1/plans` (JSON: `{"files": [{"name", "content"}], "removed", "allowRemovals"}`:
`removed`, the base names of the files the change deletes), which
validates them as it validates its own, dry-runs the valid ones against its ledger and
sources, and answers with the plan document. The answer names the files as they were
sent (their base names); they are shown here as the paths given, so `file:line:col`
problems point into the checkout.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import ValidationError

from syncd.cli.common import UsageError
from syncd.cli.remote import bearer, error_message
from syncd.errors import PermanentError, TemporaryError
from syncd.loading import MAX_FILE_BYTES
from syncd.serving import PLAN_MAX_FILES
from syncd.shapes import PlanDocument, PlanEntry, Problem


class DaemonRefused(PermanentError):
    """The daemon answered, but not with a plan (no token, a limit, a broken request)."""


def candidate(path: Path) -> dict[str, str]:
    """One file as sent: its base name and its text, refused here if the daemon would."""
    # Not followed if a link: a file of a pull request linked to a file of the CI runner
    # (a key, say) would send that file to the daemon. Nor a FIFO, which blocks the job.
    _no_linked_folder(path)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UsageError(f"{path}: is a symbolic link; give the file itself") from None
        raise UsageError(f"{path}: cannot be read: {(error.strerror or '').lower()}") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise UsageError(f"{path}: not a regular file")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UsageError(f"{path}: more than {MAX_FILE_BYTES // 1024} KiB, the limit of a file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    return {"name": path.name, "content": text}


def _no_linked_folder(path: Path) -> None:
    """A relative path (a checkout's file, as CI names it) through no symbolic link: a
    pull request's folder linked elsewhere would lead the read out of the checkout."""
    if path.is_absolute():
        return
    folder = Path()
    for part in path.parts[:-1]:
        folder /= part
        if folder.is_symlink():
            raise UsageError(f"{path}: {folder} is a symbolic link; give the file itself")


async def remote_plan(
    url: str,
    files: Sequence[Path],
    *,
    removed: Sequence[Path] = (),
    token: str | None,
    allow_removals: bool,
    show_emails: bool,
    patience: float,
) -> PlanDocument:
    if len(files) > PLAN_MAX_FILES:
        raise UsageError(f"{len(files)} files: the daemon plans at most {PLAN_MAX_FILES} at once")
    sent = [candidate(path) for path in files]
    given = {item["name"]: str(path) for item, path in zip(sent, files, strict=True)}
    if len(given) < len(sent):
        raise UsageError("two --file paths have the same base name; the daemon needs them apart")
    endpoint = f"{url.rstrip('/')}/v1/plans"
    headers = bearer(token)
    params = {"showEmails": "true"} if show_emails else {}
    gone = sorted({path.name for path in removed})
    body = {"files": sent, "removed": gone, "allowRemovals": allow_removals}
    try:
        async with (
            asyncio.timeout(patience),
            aiohttp.ClientSession() as http,
            http.post(endpoint, json=body, headers=headers, params=params) as reply,
        ):
            answer: Any = await reply.json(content_type=None)
            status = reply.status
    except TimeoutError:
        raise TemporaryError(f"the daemon at {url} did not answer within {patience:.0f}s") from None
    except (aiohttp.ClientError, OSError, ValueError) as error:
        # The system's reason when there is one ("Connection refused"), else the error's kind.
        system = getattr(error, "os_error", error)
        reason = getattr(system, "strerror", None) or type(error).__name__
        raise TemporaryError(f"cannot reach the daemon at {url}: {reason}") from None
    if status != 200:
        raise DaemonRefused(f"the daemon at {url} answered {status}: {_message(answer)}")
    try:
        document = PlanDocument.model_validate(answer)
    except ValidationError:
        raise DaemonRefused(
            f"the daemon at {url} answered with something else than a plan"
        ) from None
    return PlanDocument(destinations=[_as_given(entry, given) for entry in document.destinations])


def _message(answer: Any) -> str:
    return error_message(answer) or "no error message"


def _as_given(entry: PlanEntry, given: dict[str, str]) -> PlanEntry:
    problems = [
        Problem(file=given.get(p.file, p.file), line=p.line, column=p.column, message=p.message)
        for p in entry.problems
    ]
    return entry.model_copy(
        update={"file": given.get(entry.file, entry.file), "problems": problems}
    )
