"""What the ledger remembers of one contact for `syncd explain`: batches, departures."""

from __future__ import annotations

from syncd.ledger import RETRY_BUDGET, Ledger, OutboxItem
from tests.ledger.state import BINDING, load, remove_all


def send(ledger: Ledger, state: dict[str, int], *, rejected: dict[str, str] | None = None) -> None:
    """One run: stage, send every differing contact in one batch with job `job-N`, complete."""
    with ledger.session("d") as s:
        load(s, state)
        page = s.to_send(RETRY_BUDGET, "", 100)
        items = [
            OutboxItem(c.email, c.fingerprint, BINDING, c.payload, "s", c.row, c.raw) for c in page
        ]
        run = s.begin_run("manual", "digest")
        batch = s.prepare("upsert", "L", items, run)
        s.submitted(batch.id, f"job-{run}")
        s.complete(batch, rejected or {})
        s.finish_run(run, "success", {}, None)


def test_an_acknowledged_contact_keeps_the_batch_and_job_that_carried_it(
    ledger: Ledger,
) -> None:
    send(ledger, {"a@x.io": 1})
    record = ledger.contact("d", "a@x.io")
    acked = record.acknowledged
    assert acked is not None
    assert acked.batch is not None
    assert (acked.batch.kind, acked.batch.outcome, acked.batch.size) == ("upsert", "applied", 1)
    assert acked.batch.job_id == f"job-{acked.batch.run_id}"
    assert record.known


def test_a_rejected_contact_shows_its_reason_attempts_and_the_batch_that_carried_it(
    ledger: Ledger,
) -> None:
    send(ledger, {"a@x.io": 1, "b@x.io": 2}, rejected={"b@x.io": "invalid email"})
    record = ledger.contact("d", "b@x.io")
    assert record.acknowledged is None
    attempted = record.attempted
    assert attempted is not None
    assert (attempted.count, attempted.reason, attempted.segment) == (1, "invalid email", "s")
    assert attempted.batch is not None
    assert attempted.batch.outcome == "partlyRejected"


def test_a_contact_taken_off_the_list_is_remembered_as_departed_until_it_returns(
    ledger: Ledger,
) -> None:
    send(ledger, {"a@x.io": 1, "b@x.io": 2})
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1})
        assert remove_all(s) == ["b@x.io"]
    record = ledger.contact("d", "b@x.io")
    assert record.acknowledged is None
    assert record.departed is not None
    assert record.departed.how == "removed"
    send(ledger, {"a@x.io": 1, "b@x.io": 2})
    back = ledger.contact("d", "b@x.io")
    assert back.departed is None
    assert back.acknowledged is not None


def test_a_leaver_kept_on_the_list_is_remembered_as_kept(ledger: Ledger) -> None:
    send(ledger, {"a@x.io": 1, "b@x.io": 2})
    with ledger.session("d") as s:
        s.forget(["b@x.io"])
    departed = ledger.contact("d", "b@x.io").departed
    assert departed is not None
    assert departed.how == "kept"


def test_a_contact_in_an_open_batch_or_awaiting_removal_says_so(ledger: Ledger) -> None:
    send(ledger, {"a@x.io": 1, "b@x.io": 2})
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1})
        batch = s.prepare("remove", "L", [OutboxItem("b@x.io", body=b"id-b")], None)
        s.submitted(batch.id, "job-remove")
    record = ledger.contact("d", "b@x.io")
    assert record.in_flight is not None
    assert (record.in_flight.kind, record.in_flight.job_id) == ("remove", "job-remove")
    with ledger.session("d") as s:
        s.close_removals([(batch, True)])
    record = ledger.contact("d", "b@x.io")
    assert record.in_flight is None
    assert record.removal is not None
    assert record.removal.sends == 1
    assert record.acknowledged is not None  # on the list until a search confirms otherwise


def test_an_address_the_ledger_never_saw_is_unknown(ledger: Ledger) -> None:
    send(ledger, {"a@x.io": 1})
    assert not ledger.contact("d", "z@x.io").known
    assert not ledger.contact("other", "a@x.io").known
    assert ledger.destination_names() == ["d"]
    assert ledger.holds_acked("d")
    assert not ledger.holds_acked("other")
