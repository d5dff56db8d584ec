"""The probe's scratch objects: made in step 2, deleted in step 7 whatever happened between.

Only what the probe made is deleted: its list (the probe refuses a name already taken),
the custom fields it created (never one that existed), and its example contacts. Their
ids come from search, which may lag: a contact not found yet is deleted with the scratch
list (`delete_contacts=true`) when that list holds exactly the probe's contacts, and is
otherwise reported with what to delete by hand.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace

from syncd.contacts import CustomField
from syncd.errors import SyncdError
from syncd.reconciling.probing.examples import FIELD_TYPES, Examples
from syncd.reconciling.probing.findings import Cleanup, Created, ProbeStopped
from syncd.reconciling.probing.pacing import Pace, wait_for_job
from syncd.sendgrid import ListInfo, SendGridClient


@dataclass
class Workspace:
    examples: Examples
    list: ListInfo | None = None
    fields: dict[str, CustomField] = field(default_factory=dict)
    """The probe's two custom fields by name, created or found."""
    created_fields: set[str] = field(default_factory=set)
    possibly_present: set[str] = field(default_factory=set)
    """Addresses sent in an upsert SendGrid did not refuse: they may exist now."""
    ids: dict[str, str] = field(default_factory=dict)
    """Address → contact id, as search found them."""


async def make_workspace(client: SendGridClient, workspace: Workspace, list_name: str) -> None:
    existing = await client.find_list(list_name)
    if existing is not None:
        raise ProbeStopped(
            f"a list named {list_name!r} exists already (id {existing.id}): the probe makes "
            "a list of its own and deletes it at the end; choose a name no list has with "
            "--list-name"
        )
    workspace.list = await client.create_list(list_name)
    defined = {
        name.lower(): (name, found) for name, found in (await client.field_definitions()).items()
    }
    for name, field_type in FIELD_TYPES.items():
        if name.lower() not in defined:
            workspace.fields[name] = await client.create_field(name, field_type)
            workspace.created_fields.add(name)
            continue
        spelled, found = defined[name.lower()]
        if found.type != field_type:
            raise ProbeStopped(
                f"the custom field {spelled} exists as a {found.type} field; the probe needs "
                f"it as a {field_type} field: rename or delete it in SendGrid (Marketing > "
                "Custom Fields), or run the probe in another account"
            )
        workspace.fields[name] = found


async def clean_up(client: SendGridClient, workspace: Workspace, pace: Pace) -> Cleanup:
    """Delete what the probe made; each step on its own, so one failure stops no other."""
    cleanup = Cleanup()
    list_gone = await _contacts(client, workspace, pace, cleanup)
    if workspace.list is not None and not list_gone:
        await _list(client, workspace.list, cleanup)
    for name, custom in workspace.fields.items():
        entry = Created("customField", (custom.id,), name)
        if name not in workspace.created_fields:
            cleanup.kept.append(replace(entry, note="it existed before the probe"))
            continue
        try:
            await client.delete_field(custom.id)
            cleanup.deleted.append(entry)
        except SyncdError as error:
            cleanup.left.append(replace(entry, note=error.message))
    return cleanup


async def _contacts(
    client: SendGridClient, workspace: Workspace, pace: Pace, cleanup: Cleanup
) -> bool:
    """Delete the example contacts; True when that took the list with them."""
    present = sorted(workspace.possibly_present)
    if not present:
        return False
    name = workspace.examples.prefix
    try:
        unknown = [email for email in present if email not in workspace.ids]
        if unknown:  # search may have caught up since (or fail again: the list may do)
            with contextlib.suppress(SyncdError):
                found = await client.lookup(unknown)
                workspace.ids.update((e, contact.id) for e, contact in found.found.items())
            unknown = [email for email in present if email not in workspace.ids]
        ids = tuple(workspace.ids[email] for email in present if email in workspace.ids)
        if unknown and await _with_the_list(client, workspace, len(present), pace, cleanup):
            return True
        if ids:
            await _delete_contacts(client, ids, name, pace, cleanup)
        if unknown:
            why = "search never found them, so their ids are unknown"
            cleanup.left.append(Created("contacts", (), name, why))
    except SyncdError as error:
        cleanup.left.append(Created("contacts", (), name, error.message))
    return False


async def _delete_contacts(
    client: SendGridClient, ids: tuple[str, ...], name: str, pace: Pace, cleanup: Cleanup
) -> None:
    answer = await client.delete_contacts(list(ids))
    if not isinstance(answer, str):
        note = f"SendGrid refused their deletion: {answer.summary()}"
        cleanup.left.append(Created("contacts", ids, name, note))
        return
    job, _ = await wait_for_job(client, answer, pace, unknown_grace=pace.unknown_job_grace)
    if job is not None and job.status in ("failed", "errored"):
        note = f"their deletion job ended {job.status}"
        cleanup.left.append(Created("contacts", ids, name, note))
    elif job is None or not job.finished:
        note = f"SendGrid accepted their deletion (job {answer}); it was not seen completed"
        cleanup.deleted.append(Created("contacts", ids, name, note))
    else:
        cleanup.deleted.append(Created("contacts", ids, name))


async def _with_the_list(
    client: SendGridClient, workspace: Workspace, expected: int, pace: Pace, cleanup: Cleanup
) -> bool:
    """Delete the list with its contacts, when it holds exactly the probe's contacts.
    False when it does not, or cannot be read or deleted (the ids are tried then)."""
    scratch = workspace.list
    try:
        if scratch is None or (await client.get_list(scratch.id)).contact_count != expected:
            return False
        job_id = await client.delete_list_and_contacts(scratch.id)
    except SyncdError:
        return False
    cleanup.deleted.append(Created("list", (scratch.id,), scratch.name))
    name = workspace.examples.prefix
    ids = tuple(workspace.ids.values())
    job = None
    if job_id is not None:
        job, _ = await wait_for_job(client, job_id, pace, unknown_grace=pace.unknown_job_grace)
    if job is not None and job.status in ("failed", "errored"):
        note = f"the job deleting the list's contacts ended {job.status}"
        cleanup.left.append(Created("contacts", ids, name, note))
    else:
        note = "deleted with the scratch list (delete_contacts=true)"
        if job_id is None:
            note += "; SendGrid gave no job to follow"
        elif job is None or not job.finished:
            note += f"; its job ({job_id}) was not seen completed"
        cleanup.deleted.append(Created("contacts", ids, name, note))
    return True


async def _list(client: SendGridClient, scratch: ListInfo, cleanup: Cleanup) -> None:
    entry = Created("list", (scratch.id,), scratch.name)
    try:
        await client.delete_list(scratch.id)
        cleanup.deleted.append(entry)
    except SyncdError as error:
        cleanup.left.append(replace(entry, note=error.message))
