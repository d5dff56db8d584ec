"""The audit's comparison: each segment contact against the list, by email, field by field.

Missing and extra are found by SQL in the workspace; a contact on both sides is compared in
Python, on the payload syncd would send now (built and encoded by the very code a run uses,
so the audit cannot disagree with a run about a value) against SendGrid's export, with
`syncd.comparing.differences`: only the fields syncd maps, numbers and dates as SendGrid
takes them. A row syncd would refuse to send (a bad field) is neither missing nor stale:
runs report it as rejected.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from syncd.comparing import FieldTypes, same_as_held
from syncd.contacts import ContactBuilder, Outgoing
from syncd.ledger import RETRY_BUDGET, LedgerSession
from syncd.reconciling.auditing.workspace import DriftKind, Workspace

CHUNK = 10_000
PAGE = 5_000


def compare(workspace: Workspace, builder: ContactBuilder, outgoing: Outgoing) -> None:
    """Fill the workspace's `drift` with every contact found missing, extra, stale or
    unacknowledged (blocking: run it in a worker thread)."""
    fields: FieldTypes = {
        field.id: (name, field.type) for name, field in outgoing.binding.custom_fields.items()
    }
    workspace.find_extra()
    after = ""
    while page := workspace.segment_page(after):
        after = page[-1][0]
        found: list[tuple[str, DriftKind, int | None, int | None]] = []
        for email, raw, values, held, acknowledged in page:
            built = builder.build_encoded(values)
            if isinstance(built, str):
                continue  # refused by syncd: reported by runs, never sent
            body = outgoing.encode_fields(built.fields)
            if isinstance(body, str):
                continue
            if held is None:
                found.append((email, "missing", None, None))
            elif not same_as_held(orjson.loads(body), orjson.loads(held), fields):
                found.append((email, "stale", None, None))
            elif not acknowledged:
                found.append((email, "unacknowledged", built.fingerprint, raw))
        workspace.add_drift(found)


def fill_segment(workspace: Workspace, rows: Iterator[tuple[str, int, bytes, int, int]]) -> None:
    """The segment's keyed rows (`staging.keyed_rows`) into the workspace, in read order."""
    chunk: list[tuple[str, int, bytes, int, int]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            workspace.add_segment(chunk)
            chunk.clear()
    workspace.add_segment(chunk)


def copy_ledger(session: LedgerSession, workspace: Workspace, since: float) -> None:
    """The acknowledged contacts, and those an audit leaves out, into the workspace."""
    after = ""
    while page := session.acked_page(after, PAGE):
        after = page[-1][0]
        workspace.add_acked(page)
    after = ""
    while emails := session.audit_exclusions(since, RETRY_BUDGET, after, PAGE):
        after = emails[-1]
        workspace.exclude(emails)
    workspace.exclude_settling(since)
