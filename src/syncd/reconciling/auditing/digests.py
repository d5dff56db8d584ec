"""The audit's quick way, for sources known in sync: the export against the ledger by
bucket digests; the segment is read only for the few contacts found different.

When the ledger's in-sync record says the segment's files, definition and binding are
those SendGrid last acknowledged in full (every row sent and acknowledged, none refused),
the segment *is* the acknowledged state: one fingerprint per contact, that of the payload
a run builds. So each contact of the export is fingerprinted as if built from what
SendGrid shows (`ContactBuilder.held_print`) and counted and summed into one of 65,536
buckets by its fingerprint's low bits; the ledger does the same in SQL. A bucket whose
count and sum agree holds the same contacts with the same values on both sides (the
assumption a run's verify read makes: sums of 64-bit hashes). Only buckets that differ,
and those holding contacts an audit leaves out, are examined contact by contact, matched
by email. A contact on one side only, or with another fingerprint, is a candidate, decided
exactly as the full comparison decides it (built from the segment, compared field by
field), so a value SendGrid spells otherwise (a number as 5.0) is never called drift.

It gives way to the full comparison (returns None) when many buckets differ (a list
edited wholesale, values SendGrid spells otherwise), when many contacts are left out (a
large sync still settling), or when what it finds does not fit the record (a contact
listed twice, a segment changed since).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import orjson

from syncd.comparing import FieldTypes, same_as_held
from syncd.contacts import ContactBuilder, Outgoing
from syncd.ledger import BUCKET_MASK, BUCKETS, COUNTED, RETRY_BUDGET, LedgerSession
from syncd.loading import LoadedDestination
from syncd.reconciling.auditing.export_rows import FileCounts
from syncd.reconciling.auditing.files import export_contacts, export_prints
from syncd.reconciling.auditing.workspace import DriftKind, Workspace
from syncd.reconciling.in_sync import InSyncRecord
from syncd.reconciling.staging import rereadable
from syncd.sources import files_print

_WRAP = 1 << 64
MAX_EXAMINED = 2_048
"""Buckets examined contact by contact at most (3 % of them: ≈ 30,000 contacts of 1M)."""
MAX_LEFT_OUT = 50_000
MAX_CANDIDATES = 50_000
PAGE = 5_000

KeyedRows = Callable[[], Iterator[tuple[str, int, bytes, int, int]]]
"""The segment's keyed rows as a run reads them (`staging.keyed_rows`)."""


@dataclass(frozen=True)
class QuickCounts:
    list_contacts: int
    profiles: int
    excluded: int
    examined: int
    """Buckets examined contact by contact (none when the list equals the ledger)."""


def known_in_sync(session: LedgerSession, loaded: LoadedDestination, binding: int) -> bool:
    """Are the segment's files, definition and binding those SendGrid last acknowledged
    in full? (Blocking: run it in a worker thread.)"""
    spec = loaded.definition.spec
    if not rereadable(spec):
        return False
    prints = files_print(spec.segments, base_dir=loaded.path.parent, allowlists=loaded.allowlists)
    known = InSyncRecord.parse(session.in_sync())
    return (
        known is not None and known.same_sources(loaded.digest, prints) and known.binding == binding
    )


def quick_compare(
    session: LedgerSession,
    workspace: Workspace,
    builder: ContactBuilder,
    outgoing: Outgoing,
    paths: Sequence[Path],
    counts: FileCounts,
    *,
    settled_before: Callable[[FileCounts], float],
    segment_rows: KeyedRows,
    prunes: bool = False,
) -> QuickCounts | None:
    """Fill the workspace's `drift` as `comparing.compare` would, or None to give way to
    it. `settled_before` turns the export's newest change into the time from which
    contacts are left out. With `prunes`, extra contacts give way too: pruning them needs
    every row's contact id (`Workspace.find_extra`). Blocking: run it in a worker thread."""
    # The ledger sums its side in SQL while this thread reads the export: SQLite and
    # PostgreSQL work without the GIL, so the two overlap on two cores.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-ledger") as pool:
        acked_side = pool.submit(session.acked_print_buckets)
        held, rows = _export_buckets(paths, builder, counts)
        acked = acked_side.result()
    since = settled_before(counts)
    left_out = _left_out(session, since)
    if left_out is None:
        return None
    emails, marked = left_out
    differ = marked | set(acked.differing(held))
    profiles = acked.rows()
    if not differ:
        return QuickCounts(list_contacts=rows, profiles=profiles, excluded=0, examined=0)
    if len(differ) > MAX_EXAMINED:
        return None
    acked_here = dict(session.acked_in_buckets(sorted(differ)))
    held_here, listed_twice = _held_in(paths, builder, differ)
    extra = [e for e in held_here if e not in acked_here and e not in emails]
    if extra and (prunes or session.acked_prints(extra)):
        return None  # to be pruned; or on the list twice, or not the segment of the record
    missing = [e for e in acked_here if e not in held_here and e not in emails]
    stale = [
        e
        for e, print_ in acked_here.items()
        if e in held_here and held_here[e][2] != print_ and e not in emails
    ]
    if len(missing) + len(stale) > MAX_CANDIDATES:
        return None
    drift = _decide(builder, outgoing, segment_rows, held_here, missing, stale)
    if drift is None:
        return None
    workspace.add_drift(drift)
    workspace.add_extra((e, held_here[e][0]) for e in extra)
    excluded = sum(1 for e in emails if e in acked_here or e in held_here)
    return QuickCounts(
        list_contacts=rows - listed_twice,
        profiles=profiles,
        excluded=excluded,
        examined=len(differ),
    )


def _export_buckets(
    paths: Sequence[Path], builder: ContactBuilder, counts: FileCounts
) -> tuple[list[int], int]:
    """Per bucket, the export's contacts summed as the ledger sums its own (`BucketTotals`):
    the count times `COUNTED` plus the unsigned fingerprints; and how many contacts."""
    totals = [0] * BUCKETS
    rows = 0
    for path in paths:
        for _, signed in export_prints(path, counts, builder):
            print_ = signed % _WRAP
            totals[print_ & BUCKET_MASK] += COUNTED + print_
            rows += 1
    return totals, rows


def _left_out(session: LedgerSession, since: float) -> tuple[set[str], set[int]] | None:
    """The emails an audit leaves out, and the buckets their acknowledged fingerprints fall
    in (examined, so that leaving them out is exact); None when there are too many."""
    emails: set[str] = set()
    after = ""
    while page := session.audit_exclusions(since, RETRY_BUDGET, after, PAGE):
        after = page[-1]
        emails.update(page)
        if len(emails) > MAX_LEFT_OUT:
            return None
    settling = session.acked_settling(since, MAX_LEFT_OUT + 1)
    if len(settling) + len(emails) > MAX_LEFT_OUT:
        return None
    marked = {print_ & BUCKET_MASK for _, print_ in settling}
    marked |= {print_ & BUCKET_MASK for print_ in session.acked_prints(sorted(emails)).values()}
    emails.update(email for email, _ in settling)
    return emails, marked


def _held_in(
    paths: Sequence[Path], builder: ContactBuilder, buckets: set[int]
) -> tuple[dict[str, tuple[str, dict[str, object], int]], int]:
    """email → (contact id, fields, fingerprint) of the export's contacts in `buckets` (the
    first listing wins, as in the full comparison), and how many were listed again."""
    held: dict[str, tuple[str, dict[str, object], int]] = {}
    again = 0
    for path in paths:
        for email, contact_id, fields in export_contacts(path, FileCounts(), builder.mapped_names):
            print_ = builder.held_print(email, fields)
            if print_ & BUCKET_MASK not in buckets:
                continue
            if email in held:
                again += 1
            else:
                held[email] = (contact_id, fields, print_)
    return held, again


def _decide(
    builder: ContactBuilder,
    outgoing: Outgoing,
    segment_rows: KeyedRows,
    held: dict[str, tuple[str, dict[str, object], int]],
    missing: Iterable[str],
    stale: Iterable[str],
) -> list[tuple[str, DriftKind, int | None, int | None]] | None:
    """The candidates decided as `comparing.compare` decides them, from the segment's
    rows; None when one of them is not in the segment (it changed since the record)."""
    wanted = {*missing, *stale}
    if not wanted:
        return []
    values: dict[str, bytes] = {}
    for email, _, encoded, _, _ in segment_rows():
        if email in wanted and email not in values:
            values[email] = encoded
    if len(values) != len(wanted):
        return None
    fields: FieldTypes = {
        field.id: (name, field.type) for name, field in outgoing.binding.custom_fields.items()
    }
    found: list[tuple[str, DriftKind, int | None, int | None]] = []
    for email in sorted(wanted):
        built = builder.build_encoded(values[email])
        if isinstance(built, str):
            continue  # refused by syncd: reported by runs, never sent
        body = outgoing.encode_fields(built.fields)
        if isinstance(body, str):
            continue
        on_list = held.get(email)
        if on_list is None:
            found.append((email, "missing", None, None))
        elif not same_as_held(orjson.loads(body), on_list[1], fields):
            found.append((email, "stale", None, None))
    return found
