"""How the store's objects and jobs look on the wire, as SendGrid's JSON bodies."""

from __future__ import annotations

from collections.abc import Sequence

from syncd.emulator import rules
from syncd.emulator.errors_files import ErrorsFileLayout
from syncd.emulator.jobs import Job
from syncd.emulator.store import Contact, ContactList, CustomField, Store

# Identifier fields appear only when set; the other text fields always, empty when unset,
# as in the spec's examples.
_OPTIONAL_FIELDS = frozenset({"phone_number_id", "external_id", "anonymous_id"})


def contact_view(
    contact: Contact, store: Store, base_url: str, list_ids: Sequence[str] | None = None
) -> dict[str, object]:
    """A `ContactDetails3`. Custom fields are keyed by name, as SendGrid returns them.
    `list_ids`: the contact's lists as search saw them; by default its lists now."""
    view: dict[str, object] = {"id": contact.id, "email": contact.email}
    for name in rules.CONTACT_TEXT_FIELDS:
        if name != "email" and (name not in _OPTIONAL_FIELDS or name in contact.fields):
            view[name] = contact.fields.get(name, "")
    view.update(
        alternate_emails=list(contact.alternate_emails),
        list_ids=store.list_ids_of(contact.email) if list_ids is None else list(list_ids),
        segment_ids=[],
        custom_fields={
            store.custom_fields[field_id].name: value
            for field_id, value in contact.custom_fields.items()
            if field_id in store.custom_fields
        },
        created_at=contact.created_at,
        updated_at=contact.updated_at,
        _metadata={"self": f"{base_url}/v3/marketing/contacts/{contact.id}"},
    )
    return view


def list_view(contact_list: ContactList, base_url: str) -> dict[str, object]:
    return {
        "id": contact_list.id,
        "name": contact_list.name,
        "contact_count": len(contact_list.members),
        "_metadata": {"self": f"{base_url}/v3/marketing/lists/{contact_list.id}"},
    }


def field_view(custom: CustomField) -> dict[str, object]:
    return {"id": custom.id, "name": custom.name, "field_type": custom.field_type}


def reserved_fields_view() -> list[dict[str, object]]:
    views: list[dict[str, object]] = []
    for field_id, name, field_type, read_only in rules.RESERVED_FIELDS:
        view: dict[str, object] = {"id": field_id, "name": name, "field_type": field_type}
        if read_only:
            view["read_only"] = True
        views.append(view)
    return views


def errors_url(job: Job, layout: ErrorsFileLayout, base_url: str) -> str:
    return f"{base_url}/_emulator/files/errors/{job.id}.{layout.file_format}"


def job_view(job: Job, base_url: str) -> dict[str, object]:
    """A `ContactImport`."""
    results: dict[str, object] = dict.fromkeys(
        ("requested_count", "created_count", "updated_count", "deleted_count", "errored_count"), 0
    )
    results.update(job.counts)
    if job.errors_file is not None:
        results["errors_url"] = errors_url(job, job.errors_file, base_url)
    view: dict[str, object] = {
        "id": job.id,
        "status": job.status,
        "job_type": job.job_type,
        "results": results,
        "started_at": job.started_at,
    }
    if job.finished_at is not None:
        view["finished_at"] = job.finished_at
    if job.failure is not None:
        # Where SendGrid puts this message is undocumented; this is its usual error shape.
        view["errors"] = [{"field": None, "message": job.failure}]
    return view
