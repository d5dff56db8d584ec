"""A first export: nothing is acknowledged yet, so there is nothing to compare.

When a destination has no acknowledged contact, no open batch and no spent retry, every
row of the snapshot is new. Each is then built, encoded and packed in one pass over the
snapshot, in email order, instead of building every row first (storing each payload back
into the snapshot) and reading them all again to send: the first batch goes out as soon
as it is full, while the rest is still being built. What is recorded, and when, does not
change: a batch is in the outbox before its request, acknowledged only after its job.
"""

from __future__ import annotations

from syncd.contacts import ContactBuilder, Outgoing
from syncd.ledger import StagedContact
from syncd.reconciling.context import Outbox
from syncd.reconciling.staging import BUILD_PAGE, Staged
from syncd.reconciling.threads import in_thread
from syncd.reconciling.upserting import Batcher, Between


async def send_first_export(
    outbox: Outbox, builder: ContactBuilder, outgoing: Outgoing, staged: Staged, between: Between
) -> int:
    """Build, encode and send every staged row; returns how many rows were refused while
    being built (dropped from the snapshot and reported, as `build_stale` does)."""
    session = outbox.session
    batcher = Batcher(outbox, outgoing.binding, between)
    dropped = 0
    refused: list[tuple[StagedContact, str, str]] = []
    after = ""
    while page := await in_thread(session.stale, after, BUILD_PAGE):
        after = page[-1].email
        refused_rows: list[str] = []
        for row in page:
            segment = outbox.segment_names[row.segment]
            built = builder.build_encoded(row.values)
            if isinstance(built, str):
                staged.reject(segment, row.row, built, row.email)
                refused_rows.append(row.email)
                continue
            contact = StagedContact(
                row.email, built.fingerprint, built.payload, row.segment, row.row, True, row.raw
            )
            encoded = outgoing.encode_fields(built.fields)
            if isinstance(encoded, str):
                refused.append((contact, segment, encoded))
            else:
                if not batcher.fits(encoded):
                    await batcher.flush()
                batcher.add(contact, segment, encoded)
        staged.built += len(page) - len(refused_rows)
        if refused_rows:
            dropped += len(refused_rows)
            outbox.live.gave_up(len(refused_rows))
            await in_thread(session.record_builds, [], [], refused_rows, [])
    await batcher.flush()
    if refused:
        # As on the other path: the payload in the snapshot, so the run reports them with
        # the contacts given up before (`exhausted`).
        built_refused = [(c.fingerprint, c.payload, c.email) for c, _, _ in refused]
        await in_thread(session.record_builds, built_refused, [], [], [])
        await in_thread(session.give_up, refused)
        outbox.live.gave_up(len(refused))
    await in_thread(session.release_staged)
    return dropped
