"""A leaver back in the segment after its removal went: held out of `to_send` (counted
`held`) until released, on every backend."""

from __future__ import annotations

from syncd.ledger import RETRY_BUDGET, Ledger, OutboxItem
from tests.ledger.state import load, send_all


def test_a_leaver_back_after_its_removal_went_waits_until_released(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2, "c@x.io": 3})
        send_all(s)
        load(s, {"a@x.io": 1})  # b and c leave
        batch = s.prepare("remove", "list", [OutboxItem("b@x.io")], None)
        s.close_removals([(batch, True)])  # b's removal accepted, not confirmed by search
        s.missed(["c@x.io"])  # c not found yet: no removal went
        load(s, {"a@x.io": 1, "b@x.io": 2, "c@x.io": 3})  # both back

        s.clear_returned()  # c starts afresh; b's removal may still land

        assert [r.email for r in s.returning("", 10)] == ["b@x.io"]
        d = s.diff(RETRY_BUDGET)
        assert (d.held, d.changed, d.unchanged, d.to_send) == (1, 0, 2, 0)
        assert s.to_send(RETRY_BUDGET, "", 10) == []
        s.released(["b@x.io"])
        assert s.returning("", 10) == []
        d = s.diff(RETRY_BUDGET)
        assert (d.held, d.changed) == (0, 1)
        assert [c.email for c in s.to_send(RETRY_BUDGET, "", 10)] == ["b@x.io"]


def test_a_kept_leaver_whose_removal_went_keeps_its_record(ledger: Ledger) -> None:
    # onLeave: keep forgets leavers; a removal already sent may still land, so its record
    # stays and holds the contact's re-add if it comes back. An unsent one goes.
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2, "c@x.io": 3})
        send_all(s)
        load(s, {"a@x.io": 1})  # b and c leave
        batch = s.prepare("remove", "list", [OutboxItem("b@x.io")], None)
        s.close_removals([(batch, True)])
        s.missed(["c@x.io"])
        s.forget(["b@x.io", "c@x.io"])
        load(s, {"a@x.io": 1, "b@x.io": 2, "c@x.io": 3})  # both back

        assert [r.email for r in s.returning("", 10)] == ["b@x.io"]
        d = s.diff(RETRY_BUDGET)
        assert (d.held, d.new, d.unchanged) == (1, 1, 1)
        assert [c.email for c in s.to_send(RETRY_BUDGET, "", 10)] == ["c@x.io"]
