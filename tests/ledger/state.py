"""A ledger brought to a state: rows staged and diffed, sends and removals carried out as
a run would (without SendGrid), for the ledger's own tests."""

from __future__ import annotations

from syncd.contacts import ContactBuilder
from syncd.destinations import Mapping
from syncd.ledger import RETRY_BUDGET, LedgerSession, OutboxItem
from syncd.reconciling.staging import Staged, build_stale

BINDING = 7
BUILDER = ContactBuilder(Mapping.model_validate({"email": "E", "first_name": "F"}))


def load(
    s: LedgerSession,
    state: dict[str, int],
    *,
    binding: int = BINDING,
    builder: ContactBuilder = BUILDER,
) -> Staged:
    """Stage one row per email (its value as first name), sort, and build what is stale."""
    staged = Staged()
    s.reset_snapshot()
    rows = []
    for row, (email, value) in enumerate(state.items(), start=2):
        keyed = builder.key([email, f"v{value}"])
        assert not isinstance(keyed, str)
        rows.append((*keyed, 0, row))
    s.stage(rows)
    staged.profiles = s.finalize_snapshot()
    build_stale(s, builder, staged, binding=binding, segment_names=["s", "t"], remember=True)
    return staged


def send_all(session: LedgerSession, binding: int = BINDING) -> list[str]:
    """Prepare, submit and complete everything the diff says to send; return the emails."""
    page = session.to_send(RETRY_BUDGET, "", 10_000)
    if not page:
        return []
    items = [
        OutboxItem(c.email, c.fingerprint, binding, c.payload, "s", c.row, c.raw) for c in page
    ]
    batch = session.prepare("upsert", "list", items, None)
    session.submitted(batch.id, "job-1")
    session.complete(batch, {})
    return [c.email for c in page]


def remove_all(session: LedgerSession) -> list[str]:
    """Send a removal for every leaver, then confirm it (as a search would)."""
    gone = session.gone("", 10_000)
    if gone:
        batch = session.prepare("remove", "list", [OutboxItem(e) for e in gone], None)
        session.close_removals([(batch, True)])
        session.removed(gone)
    return gone
