"""How the store's objects look on the wire: JSON bodies, the errors file, export files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

import orjson

from syncd.emulator import rules
from syncd.emulator.errors_files import ErrorsFileLayout
from syncd.emulator.exports import Export
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


def export_url(export: Export, base_url: str) -> str:
    return f"{base_url}/_emulator/files/exports/{export.id}.{export.file_type}"


def export_view(export: Export, now: float, base_url: str) -> dict[str, object]:
    """A `ContactExport`; `urls` and `contact_count` once ready, `message` on failure."""
    status = export.status(now)
    view: dict[str, object] = {
        "id": export.id,
        "status": status,
        "created_at": export.created_at,
        "updated_at": export.completed_at if status != "pending" else export.created_at,
        "expires_at": export.expires_at,
        "_metadata": {"self": f"{base_url}/v3/marketing/contacts/exports/{export.id}"},
    }
    if status == "ready":
        view.update(
            completed_at=export.completed_at,
            urls=[export_url(export, base_url)],
            contact_count=len(export.rows),
        )
    elif status == "failure":
        view.update(completed_at=export.completed_at, message=export.failure or "")
    return view


def export_file(export: Export) -> tuple[bytes, str]:
    """The exported contacts: JSON lines for `json`, CSV with upper-case headers for `csv`."""
    if export.file_type == "json":
        lines = b"".join(orjson.dumps(row) + b"\n" for row in export.rows)
        return lines, "application/x-ndjson"
    return _export_csv(export.rows), "text/csv; charset=utf-8"


def _export_csv(rows: Iterable[dict[str, object]]) -> bytes:
    rows = list(rows)
    columns = ["contact_id", "email", *(n for n in rules.CONTACT_TEXT_FIELDS if n != "email")]
    columns += ["alternate_emails", "list_ids", "created_at", "updated_at"]
    custom_names = sorted({name for row in rows for name in _custom(row)})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.upper() for c in columns] + custom_names)
    for row in rows:
        values = {**row, "contact_id": row.get("id", "")}
        cells = [_cell(values.get(column, "")) for column in columns]
        writer.writerow(cells + [_cell(_custom(row).get(name, "")) for name in custom_names])
    return buffer.getvalue().encode()


def _custom(row: dict[str, object]) -> dict[str, object]:
    custom = row.get("custom_fields")
    return custom if isinstance(custom, dict) else {}


def _cell(value: object) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)
