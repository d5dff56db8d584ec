"""Applying a due job to the store: per-contact checks, injected failures, counts, status."""

from __future__ import annotations

from syncd.emulator import rules
from syncd.emulator.contact_checks import ContactChanges, check_contact
from syncd.emulator.errors_files import ErrorsFileLayout
from syncd.emulator.jobs import DeleteWork, Job, ListRemovalWork, UpsertWork
from syncd.emulator.profiles import Behaviour
from syncd.emulator.store import Store
from syncd.emulator.validation import normalize_email


def apply_job(job: Job, store: Store, behaviour: Behaviour) -> None:
    _apply(job, store, behaviour)
    if job.rejections:
        job.errors_file = ErrorsFileLayout.of(behaviour)


def _apply(job: Job, store: Store, behaviour: Behaviour) -> None:
    injected = job.injected
    requested = _requested(job, store)
    if injected is not None and injected.kind == "job_failed":
        # An unprocessable job: nothing applied, and no contact is blamed for it.
        _conclude(job, requested=requested)
        job.status = "failed"
        return
    if isinstance(job.work, UpsertWork):
        _apply_upsert(job, job.work, store, behaviour)
    elif isinstance(job.work, DeleteWork):
        ids = job.work.contact_ids if job.work.contact_ids is not None else store.all_contact_ids()
        kept = _reject_victims(job, ids, store)
        _conclude(job, requested=requested, deleted=store.delete_contacts(kept))
    else:
        kept = _reject_victims(job, job.work.contact_ids, store)
        removed = store.remove_from_list(job.work.list_id, kept)
        _conclude(job, requested=requested, deleted=removed)


def _requested(job: Job, store: Store) -> int:
    work = job.work
    if isinstance(work, UpsertWork):
        return len(work.contacts)
    if isinstance(work, DeleteWork) and work.contact_ids is None:
        return len(store.contacts)
    assert isinstance(work, DeleteWork | ListRemovalWork)
    return len(work.contact_ids) if work.contact_ids is not None else 0


def _apply_upsert(job: Job, work: UpsertWork, store: Store, behaviour: Behaviour) -> None:
    victims = _victim_emails(job)
    victim_count = (job.injected.count or 0) if job.injected else 0
    field_types = store.field_types()
    accepted: list[ContactChanges] = []
    for index, contact in enumerate(work.contacts):
        raw_email = contact.get("email")
        email = normalize_email(raw_email) if isinstance(raw_email, str) else ""
        if job.injected is not None and (index < victim_count or email in victims):
            job.rejections.append((email, job.injected.reason))
            continue
        checked = check_contact(contact, field_types, behaviour.custom_value_rules)
        if isinstance(checked, list):
            job.rejections.append((email, checked[0].message))
        elif missing := _missing(checked, store):
            job.rejections.append((email, f"{rules.MSG_IDENTIFIERS_MISSING}: {missing}"))
        else:
            accepted.append(checked)
    limit = behaviour.contact_limit
    if behaviour.contact_limit_per_contact and _over_the_contact_limit(accepted, store, limit):
        # The other reading of sendgrid-go#413: what fits is applied, each new contact past
        # the limit is refused in the errors file with the same message.
        accepted = _within_the_limit(job, accepted, store, limit)
    elif _over_the_contact_limit(accepted, store, limit):
        # The whole job fails and nothing is applied (sendgrid-go#413); no contact is blamed.
        job.rejections.clear()
        job.failure = rules.MSG_CONTACT_LIMIT
        _conclude(job, requested=len(work.contacts))
        job.status = "failed"
        return
    created = sum(store.upsert(changes, work.list_ids) for changes in accepted)
    updated = len(accepted) - created
    _conclude(job, requested=len(work.contacts), created=created, updated=updated)


def _missing(changes: ContactChanges, store: Store) -> str:
    """The identifiers the stored contact has (set by another integration of a shared
    account) that the update does not carry with the same value."""
    found = store.contacts.get(changes.email)
    if found is None:
        return ""
    return ", ".join(
        name
        for name in rules.IDENTIFIERS
        if found.fields.get(name) and changes.fields.get(name) != found.fields[name]
    )


def _over_the_contact_limit(
    accepted: list[ContactChanges], store: Store, limit: int | None
) -> bool:
    if limit is None:
        return False
    new = {changes.email for changes in accepted if changes.email not in store.contacts}
    return len(store.contacts) + len(new) > limit


def _within_the_limit(
    job: Job, accepted: list[ContactChanges], store: Store, limit: int | None
) -> list[ContactChanges]:
    """The changes that fit under the limit (updates always do); the new contacts past it
    refused in the job, each with the contact limit's message."""
    room = (limit or 0) - len(store.contacts)
    kept: list[ContactChanges] = []
    for changes in accepted:
        if changes.email in store.contacts:
            kept.append(changes)
        elif room > 0:
            room -= 1
            kept.append(changes)
        else:
            job.rejections.append((changes.email, rules.MSG_CONTACT_LIMIT))
    return kept


def _reject_victims(job: Job, contact_ids: list[str], store: Store) -> list[str]:
    """Drops the ids an injected job_errored fault rejects, recording them; returns the rest."""
    if job.injected is None:
        return contact_ids
    victims = _victim_emails(job)
    victim_count = job.injected.count or 0
    kept = []
    for index, contact_id in enumerate(contact_ids):
        found = store.by_id(contact_id)
        email = found.email if found else ""
        if index < victim_count or (email and email in victims):
            job.rejections.append((email or contact_id, job.injected.reason))
        else:
            kept.append(contact_id)
    return kept


def _victim_emails(job: Job) -> set[str]:
    return {normalize_email(email) for email in job.injected.emails} if job.injected else set()


def _conclude(
    job: Job, *, requested: int, created: int = 0, updated: int = 0, deleted: int = 0
) -> None:
    errored = len(job.rejections)
    job.counts = {
        "requested_count": requested,
        "created_count": created,
        "updated_count": updated,
        "deleted_count": deleted,
        "errored_count": errored,
    }
    if errored == 0:
        job.status = "completed"
    elif errored >= requested:
        job.status = "failed"
    else:
        job.status = "errored"
