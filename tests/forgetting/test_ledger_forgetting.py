"""What the ledger forgets of an address, what it keeps, on every backend."""

from __future__ import annotations

from syncd.contacts import forgotten_digest
from syncd.ledger import EVERY_DESTINATION, Ledger, OutboxItem, Rejection, open_ledger
from tests.ledger.state import load, send_all

ANN = "ann@example.com"
BOB = "bob@example.com"


def synced(ledger: Ledger, destination: str, *emails: str) -> None:
    with ledger.session(destination) as s:
        load(s, dict.fromkeys(emails, 1))
        send_all(s)


def test_the_salt_is_made_once_per_ledger_and_an_address_always_hashes_alike(
    ledger: Ledger, ledger_state: str
) -> None:
    first = ledger.digest(ANN)
    assert ledger.digest(ANN) == first
    assert ledger.digest(BOB) != first
    again = open_ledger(ledger_state, writer=False)
    try:
        assert again.digest(ANN) == first
    finally:
        again.close()
    # Another ledger has another salt: one table of guesses does not fit both.
    assert forgotten_digest(b"\0" * 8, ANN) != first


def test_a_forgotten_address_applies_to_its_scope_until_lifted(ledger: Ledger) -> None:
    ann, bob = ledger.digest(ANN), ledger.digest(BOB)
    assert ledger.remember(ann, EVERY_DESTINATION)
    assert not ledger.remember(ann, EVERY_DESTINATION)  # kept already
    assert ledger.remember(bob, "members")
    with ledger.session("members") as s:
        assert s.forgotten().holds(ANN)
        assert s.forgotten().holds(BOB)
    with ledger.session("other") as s:
        forgotten = s.forgotten()
        assert forgotten.holds(ANN)
        assert not forgotten.holds(BOB)
        assert not forgotten.holds("carl@example.com")
    assert ledger.scopes(bob) == ["members"]
    assert ledger.lift(bob, "other") == []
    assert ledger.lift(bob, None) == ["members"]
    assert ledger.lift(ann, None) == [EVERY_DESTINATION]
    with ledger.session("members") as s:
        assert not s.forgotten()


def test_erasing_removes_every_record_of_the_address_and_nothing_else(ledger: Ledger) -> None:
    synced(ledger, "members", ANN, BOB)
    with ledger.session("members") as s:
        s.mark_in_sync("files:as:they:were:1")
        s.missed([ANN])  # a removal that was looking for it
        run = s.begin_run("schedule", "digest")
        s.record_rejections(
            run,
            [
                Rejection("vip", 3, "first_name is too long", ANN),
                Rejection("vip", 4, f"SendGrid: {ANN.upper()} is a duplicate"),  # quoted only
                Rejection("vip", 5, "a reason about bob", BOB),
            ],
        )
        s.finish_run(run, "permanent", {}, f"SendGrid refused {ANN}")
        prepared = s.prepare("upsert", "list", [OutboxItem(ANN), OutboxItem(BOB)], None)
        erased = s.erase(ANN)
        assert erased.acknowledged == 1
        assert erased.removals == 1
        assert erased.rejections == 2
        assert erased.errors == 1
        assert erased.unsent == 1
        assert erased.in_flight == 0
        assert s.in_sync() is None
        assert s.acked_count() == 1
        assert s.emails(prepared.id) == [BOB]
        assert s.pending_removals() == 1  # bob: no snapshot in this session, so a "leaver"
        assert [r.email for r in ledger.rejections(run)] == [BOB]
        assert ledger.runs("members")[0].error == "SendGrid refused <forgotten address>"
        assert not s.erase(ANN).held  # nothing left to erase


def test_a_batch_sendgrid_already_has_keeps_the_item_until_its_job_ends(ledger: Ledger) -> None:
    with ledger.session("members") as s:
        batch = s.prepare("upsert", "list", [OutboxItem(ANN)], None)
        s.submitted(batch.id, "job-1")
        erased = s.erase(ANN)
        assert (erased.unsent, erased.in_flight) == (0, 1)
        assert s.emails(batch.id) == [ANN]
        only = s.prepare("upsert", "list", [OutboxItem(BOB)], None)
        s.erase(BOB)
        assert [b.id for b in s.open_batches()] == [batch.id]  # the emptied batch closed
        assert only.id not in [b.id for b in s.open_batches()]


def test_an_erasure_keeps_its_address_until_sendgrid_confirms_it_gone(ledger: Ledger) -> None:
    with ledger.session("members") as s:
        s.queue_erasure(ANN)
        assert s.pending_erasures() == 1
        assert s.erasures_waiting() == set()
        upsert = s.prepare("upsert", "list", [OutboxItem(ANN)], None)
        assert s.erasures_waiting() == {ANN}  # an upsert in flight could create it again
        s.abandon(upsert.id)
        s.erasures_missed([ANN])
        (pending,) = s.erasures()
        assert pending.first_missed_at is not None
        assert pending.sent_at is None
        batch = s.prepare("delete", "list", [OutboxItem(ANN, body=b"id-1")], None)
        s.close_removals([(batch, True)])
        (pending,) = s.erasures()
        assert (pending.sent_at is not None, pending.sends) == (True, 1)
        assert s.pending_removals() == 0  # not a leaver: no removal record was made
        assert s.removed([ANN]) == 1
        assert s.erasures() == []


def test_one_confirmation_of_a_leaver_and_an_erasure_keeps_each_apart(ledger: Ledger) -> None:
    """A search can confirm a leaver and an erased address together: the leaver's departure
    is remembered, the erasure's is not, and only the erasure is counted as one."""
    synced(ledger, "members", ANN, BOB)
    with ledger.session("members") as s:
        s.queue_erasure(ANN)
        assert s.removed([ANN, BOB]) == 1
        assert s.erasures() == []
    assert ledger.contact("members", ANN).departed is None
    departed = ledger.contact("members", BOB).departed
    assert departed is not None
    assert departed.how == "removed"
    assert ledger.contact("members", BOB).acknowledged is None


def test_a_pending_erasure_shows_in_the_summary_so_a_restart_resumes_it(ledger: Ledger) -> None:
    with ledger.session("members") as s:
        s.finish_run(s.begin_run("schedule", "digest"), "success", {}, None)
        s.queue_erasure(ANN)
    (summary,) = ledger.summaries()
    assert summary.pending_erasures == 1
    assert summary.open_batches == 0


def test_holds_tells_which_destinations_have_the_address(ledger: Ledger) -> None:
    synced(ledger, "members", ANN)
    with ledger.session("other") as s:
        s.prepare("upsert", "list", [OutboxItem(ANN)], None)
    with ledger.session("third"):
        pass
    assert ledger.destination_names() == ["members", "other", "third"]
    assert [d for d in ledger.destination_names() if ledger.holds(d, ANN)] == ["members", "other"]


def test_erasing_also_forgets_that_the_address_once_left_the_list(ledger: Ledger) -> None:
    synced(ledger, "members", ANN, BOB)
    with ledger.session("members") as s:
        s.removed([ANN])  # left the segment and was taken off the list
    assert ledger.contact("members", ANN).departed is not None
    with ledger.session("members") as s:
        s.erase(ANN)
    assert ledger.contact("members", ANN).departed is None
    assert ledger.contact("members", BOB).acknowledged is not None
