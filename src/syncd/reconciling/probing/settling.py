"""Step 4: every upsert job of the examples polled to its end, its errors file read."""

from __future__ import annotations

from syncd.reconciling.probing import judging
from syncd.reconciling.probing.examples import ROLES, Fate, Role, Sent
from syncd.reconciling.probing.findings import ProbeReport
from syncd.reconciling.probing.pacing import Pace, wait_for_job
from syncd.reconciling.probing.workspace import Workspace
from syncd.sendgrid import ErrorsFileMissing, Job, SendGridClient
from syncd.sendgrid.errors_file import (
    UnreadableErrorsFile,
    parse_errors_file,
    read_errors_file,
)


async def settle(
    client: SendGridClient, workspace: Workspace, sent: Sent, pace: Pace, report: ProbeReport
) -> dict[Role, Fate]:
    """Each example's fate as far as its job tells; the errors-file findings."""
    fates = {role: Fate("refused up front", why) for role, why in sent.refused.items()}
    files: list[judging.ErrorsFile] = []
    for job_id, roles in sent.jobs.items():
        job, waited = await wait_for_job(client, job_id, pace)
        why = _unsettled(job, waited)
        if job is None or why is not None:
            fates.update((role, Fate("unknown", why or "")) for role in roles)
            if job is not None and job.finished:  # failed as a whole: nothing was made
                _made_none(workspace, roles)
            continue
        rejected: dict[str, str] = {}
        try:
            raw = await client.errors_file(job.errors_url) if job.errors_url else None
        except ErrorsFileMissing:
            raw = None
        try:
            read = read_errors_file(raw)[0] if raw is not None else None
        except UnreadableErrorsFile:
            raw = read = None
        if raw is not None and read is not None:
            rejected = parse_errors_file(raw)
            files.append(judging.ErrorsFile(job, read, frozenset(rejected)))
        elif job.errored_count:  # no file, its link already gone, or a file past reading
            files.append(judging.ErrorsFile(job, None, frozenset()))
        for role in roles:
            address = workspace.examples.address(role)
            if address in rejected:
                fates[role] = Fate("rejected in the job", rejected[address])
                _made_none(workspace, [role])
            elif job.status == "completed" or job.errored_count <= _named(
                rejected, roles, workspace
            ):
                fates[role] = Fate("accepted")
            else:
                fates[role] = Fate("unaccounted")
    layout, adds_up = judging.errors_files(files)
    report.add(layout)
    report.add(adds_up)
    lost = Fate("unknown", "it was neither refused nor in a job")
    return {role: fates.get(role, lost) for role in ROLES}


def _named(rejected: dict[str, str], roles: list[Role], workspace: Workspace) -> int:
    """How many of the job's contacts its errors file names."""
    return sum(1 for role in roles if workspace.examples.address(role) in rejected)


def _made_none(workspace: Workspace, roles: list[Role]) -> None:
    workspace.possibly_present.difference_update(workspace.examples.address(r) for r in roles)


def _unsettled(job: Job | None, waited: float) -> str | None:
    """Why a job says nothing about its contacts, if it does not."""
    if job is None:
        return "SendGrid did not know its job"
    if not job.finished:
        return f"its job was still {job.status} after {waited:.0f} s"
    if job.status == "failed" and not job.errors_url:
        return f"its job failed as a whole: {job.message or 'no reason given'}"
    return None
