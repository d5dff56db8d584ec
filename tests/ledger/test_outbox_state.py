"""The ledger's outbox: open batches held back, jobs failed or completed, retries spent,
removals pending until confirmed, refusals given up."""

from __future__ import annotations

import pytest

from syncd.ledger import RETRY_BUDGET, Ledger, OutboxItem
from tests.ledger.state import BINDING, load, remove_all, send_all


def test_contacts_in_an_open_batch_are_held_back(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2})
        (a, _) = s.to_send(RETRY_BUDGET, "", 10)
        batch = s.prepare("upsert", "list", [OutboxItem(a.email, a.fingerprint, BINDING)], None)
        held = s.diff(RETRY_BUDGET)
        assert (held.held, held.new, held.to_send) == (1, 1, 1)
        assert [c.email for c in s.to_send(RETRY_BUDGET, "", 10)] == ["b@x.io"]
        with pytest.raises(Exception, match=r"UNIQUE|unique|duplicate"):
            s.prepare("upsert", "list", [OutboxItem(a.email, a.fingerprint, BINDING)], None)
        s.abandon(batch.id)
        assert s.diff(RETRY_BUDGET).held == 0


def test_open_batches_survive_the_session_with_their_state_and_job(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        first = s.prepare("upsert", "L", [OutboxItem("a@x.io", 1, BINDING, b"{}")], None)
        second = s.prepare("remove", "L", [OutboxItem("b@x.io")], None)
        s.submitted(first.id, "job-a")
    with ledger.session("d") as s:
        batches = s.open_batches()
        assert [(b.id, b.kind, b.state, b.job_id, b.size) for b in batches] == [
            (first.id, "upsert", "submitted", "job-a", 1),
            (second.id, "remove", "prepared", None, 1),
        ]
        assert s.bodies(first.id) == [b"{}"]
        s.reopen(first.id)
        assert s.open_batches()[0].state == "prepared"


def test_a_batch_keeps_its_items_byte_for_byte(ledger: Ledger) -> None:
    """Items are written in one go (a COPY on PostgreSQL, whose text format escapes): what
    comes back is what went in, whatever the bytes, and the extreme fingerprints."""
    awkward = b'{"a":"tab\there, \\N, back\\slash\r\n"}\x00\xff'
    items = [
        OutboxItem("a@x.io", -(2**63), BINDING, awkward, "seg\tment \\N", 2**31 - 1, 2**63 - 1),
        OutboxItem("b@x.io", 2**63 - 1, BINDING, b"", "\\.", 0, -(2**63)),
    ]
    with ledger.session("d") as s:
        batch = s.prepare("upsert", "L", items, None)
        assert s.items(batch.id) == [("a@x.io", awkward), ("b@x.io", b"")]
        reported = s.complete(batch, {"a@x.io": "refused", "b@x.io": "refused too"})
        assert {(r.segment, r.row) for r in reported} == {("\\.", 0), ("seg\tment \\N", 2**31 - 1)}


def test_sendgrid_rejections_spend_a_retry_budget_per_payload(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        for attempt in range(1, RETRY_BUDGET + 1):  # one run each
            load(s, {"a@x.io": 1, "b@x.io": 2})
            page = s.to_send(RETRY_BUDGET, "", 10)
            assert len(page) == (2 if attempt == 1 else 1)
            items = [
                OutboxItem(c.email, c.fingerprint, BINDING, c.payload, "s", c.row, c.raw)
                for c in page
            ]
            batch = s.prepare("upsert", "L", items, None)
            reported = s.complete(batch, {"b@x.io": "invalid email"})
            assert [r.reason for r in reported] == ["invalid email"]
        load(s, {"a@x.io": 1, "b@x.io": 2})
        d = s.diff(RETRY_BUDGET)
        assert (d.exhausted, d.new, d.to_send, d.unchanged) == (1, 0, 0, 1)
        assert [r.reason for r in s.exhausted(RETRY_BUDGET, ["s", "t"])] == ["invalid email"]
        load(s, {"a@x.io": 1, "b@x.io": 3})  # the payload changed: try again
        assert s.diff(RETRY_BUDGET).to_send == 1


def test_a_failed_job_acknowledges_nothing(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2})
        page = s.to_send(RETRY_BUDGET, "", 10)
        items = [
            OutboxItem(c.email, c.fingerprint, BINDING, c.payload, "s", c.row, c.raw) for c in page
        ]
        batch = s.prepare("upsert", "L", items, None)
        s.complete(batch, {"a@x.io": "bad"}, applied=False)
        d = s.diff(RETRY_BUDGET)
        assert (d.new, d.to_send, d.held) == (2, 2, 0)


def test_confirmed_removals_leave_the_acked_state(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2})
        send_all(s)
        load(s, {"a@x.io": 1})
        assert remove_all(s) == ["b@x.io"]
        d = s.diff(RETRY_BUDGET)
        assert (d.acked, d.gone) == (1, 0)


def test_a_removal_sendgrid_accepted_stays_pending_until_confirmed(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2, "c@x.io": 3})
        send_all(s)
        load(s, {"a@x.io": 1})
        (b, c) = s.leavers("", 10)
        assert (b.email, b.first_missed_at, b.sent_at, b.sends) == ("b@x.io", None, None, 0)
        batch = s.prepare("remove", "list", [OutboxItem("b@x.io", body=b"id-b")], None)
        assert s.close_removals([(batch, True)])[0] == ["b@x.io"]
        s.missed(["c@x.io"])
        s.missed(["c@x.io"])  # the first miss is the one remembered
        b, c = s.leavers("", 10)
        assert b.sent_at is not None
        assert b.sends == 1
        assert b.first_missed_at is None
        assert c.first_missed_at is not None
        assert c.sent_at is None
        assert s.pending_removals() == 2
        assert s.diff(RETRY_BUDGET).gone == 2  # still acknowledged: on the list, for all we know
        s.removed(["b@x.io"])
        assert [leaver.email for leaver in s.leavers("", 10)] == ["c@x.io"]


def test_removal_batches_that_ended_together_close_together(ledger: Ledger) -> None:
    """Each batch closes; only an accepted one counts its leavers' removal as sent."""
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2, "c@x.io": 3})
        send_all(s)
        load(s, {"a@x.io": 1})
        accepted = s.prepare("remove", "list", [OutboxItem("b@x.io", body=b"id-b")], None)
        failed = s.prepare("remove", "list", [OutboxItem("c@x.io", body=b"id-c")], None)
        assert s.close_removals([(accepted, True), (failed, False)]) == [["b@x.io"], ["c@x.io"]]
        assert s.open_batches() == []
        b, c = s.leavers("", 10)
        assert (b.email, b.sends, b.sent_at is not None) == ("b@x.io", 1, True)
        assert (c.email, c.sends, c.sent_at) == ("c@x.io", 0, None)


def test_a_leaver_back_in_the_segment_starts_afresh(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2})
        send_all(s)
        load(s, {"a@x.io": 1})
        s.missed(["b@x.io"])
        load(s, {"a@x.io": 1, "b@x.io": 2})
        s.clear_returned()
        load(s, {"a@x.io": 1})
        (b,) = s.leavers("", 10)
        assert b.first_missed_at is None


def test_a_refused_contact_leaves_its_batch_and_is_given_up(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2, "c@x.io": 3})
        page = s.to_send(RETRY_BUDGET, "", 10)
        items = [
            OutboxItem(c.email, c.fingerprint, BINDING, c.payload, "s", c.row, c.raw) for c in page
        ]
        batch = s.prepare("upsert", "L", items, None)
        assert s.sending(batch.id) == 1
        rejections, left = s.refuse(batch, {"b@x.io": "custom_fields.e1_N: not a number"})
        assert left == 2
        assert [(r.email, r.reason) for r in rejections] == [
            ("b@x.io", "custom_fields.e1_N: not a number")
        ]
        assert [e for e, _ in s.items(batch.id)] == ["a@x.io", "c@x.io"]
        (again,) = s.open_batches()
        assert again.sends == 0  # a new body counts its sends afresh
        second = s.split(again, "c@x.io")
        assert [e for e, _ in s.items(second.id)] == ["c@x.io"]
        assert [e for e, _ in s.items(batch.id)] == ["a@x.io"]
        d = s.diff(RETRY_BUDGET)
        assert (d.held, d.exhausted) == (2, 1)  # b is given up at once, not retried
