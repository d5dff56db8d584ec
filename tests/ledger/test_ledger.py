from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.contacts import ContactBuilder
from syncd.destinations import Mapping
from syncd.errors import LedgerConflict
from syncd.ledger import RETRY_BUDGET, Ledger, LedgerSession, OutboxItem, open_ledger
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
        session.close_removal(batch, sent=True)
        session.removed(gone)
    return gone


def test_a_first_run_sends_everyone_and_a_second_nothing(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        assert load(s, {"a@x.io": 1, "b@x.io": 2}).built == 2
        d = s.diff(RETRY_BUDGET)
        assert (d.desired, d.new, d.changed, d.unchanged, d.gone) == (2, 2, 0, 0, 0)
        assert send_all(s) == ["a@x.io", "b@x.io"]
        assert load(s, {"a@x.io": 1, "b@x.io": 2}).built == 0  # nothing rebuilt
        d = s.diff(RETRY_BUDGET)
        assert (d.new, d.changed, d.unchanged, d.to_send) == (0, 0, 2, 0)


def test_the_first_staged_duplicate_wins(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        s.reset_snapshot()
        first = BUILDER.key(["a@x.io", "first"])
        second = BUILDER.key(["A@x.io ", "second"])
        assert not isinstance(first, str)
        assert not isinstance(second, str)
        s.stage([(*first, 0, 2)])
        s.stage([(*second, 1, 9)])
        assert s.staged_distinct() == 1
        assert s.finalize_snapshot() == 1
        build_stale(s, BUILDER, Staged(), binding=BINDING, segment_names=["s", "t"], remember=True)
        (only,) = s.to_send(RETRY_BUDGET, "", 10)
        assert (only.segment, only.row) == (0, 2)
        assert b'"first_name":"first"' in only.payload


def test_changed_and_gone_contacts_are_found_and_nothing_else(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2, "c@x.io": 3})
        send_all(s)
        load(s, {"a@x.io": 1, "b@x.io": 22, "d@x.io": 4})
        d = s.diff(RETRY_BUDGET)
        assert (d.new, d.changed, d.unchanged, d.gone, d.acked) == (1, 1, 1, 1, 3)
        assert [c.email for c in s.to_send(RETRY_BUDGET, "", 10)] == ["b@x.io", "d@x.io"]
        assert s.gone("", 10) == ["c@x.io"]


def test_a_new_binding_resends_everyone(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1})
        send_all(s)
        load(s, {"a@x.io": 1}, binding=BINDING + 1)
        assert s.diff(RETRY_BUDGET).changed == 1


def test_a_mapping_change_rebuilds_every_row_but_resends_only_changed_payloads(
    ledger: Ledger,
) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2})
        send_all(s)
        # last_name now also takes the value column: every row is stale, both payloads change
        wider = ContactBuilder(
            Mapping.model_validate({"email": "E", "first_name": "F", "last_name": "F"})
        )
        staged = load(s, {"a@x.io": 1, "b@x.io": 2}, builder=wider)
        assert staged.built == 2
        assert s.diff(RETRY_BUDGET).changed == 2


def test_rows_equal_after_rebuilding_are_remembered_and_not_rebuilt_again(
    ledger: Ledger,
) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1})
        send_all(s)
        # The same fields from the same columns, listed in another order: every row is
        # stale (another mapping), rebuilt, found equal, and its new source print kept.
        reordered = ContactBuilder(Mapping.model_validate({"first_name": "F", "email": "E"}))
        staged = load(s, {"a@x.io": 1}, builder=reordered)
        assert staged.built == 0
        assert s.diff(RETRY_BUDGET).unchanged == 1
        load(s, {"a@x.io": 1}, builder=reordered)
        s.reset_snapshot()
        keyed = reordered.key(["a@x.io", "v1"])
        assert not isinstance(keyed, str)
        s.stage([(*keyed, 0, 2)])
        s.finalize_snapshot()
        assert s.stale("", 10) == []


def test_a_row_refused_after_it_was_sent_keeps_its_place_on_the_list(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        load(s, {"a@x.io": 1, "b@x.io": 2})
        send_all(s)
        s.reset_snapshot()
        rows = []
        for row, values in enumerate([["a@x.io", "x" * 51], ["c@x.io", "y" * 51]], start=2):
            keyed = BUILDER.key(values)
            assert not isinstance(keyed, str)
            rows.append((*keyed, 0, row))
        s.stage(rows)
        s.finalize_snapshot()
        staged = Staged()
        build_stale(s, BUILDER, staged, binding=BINDING, segment_names=["s"], remember=True)
        assert staged.rejected == 2
        d = s.diff(RETRY_BUDGET)
        # a: refused but known, kept as it is in SendGrid; c: refused and new, not desired;
        # b: gone
        assert (d.desired, d.unchanged, d.new, d.gone) == (1, 1, 0, 1)


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
        assert [r.reason for r in s.exhausted(RETRY_BUDGET)] == ["invalid email"]
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
        assert s.close_removal(batch, sent=True) == ["b@x.io"]
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


def test_destinations_do_not_see_each_other(ledger: Ledger) -> None:
    with ledger.session("one") as s:
        load(s, {"a@x.io": 1})
        send_all(s)
    with ledger.session("two") as s:
        load(s, {"a@x.io": 1})
        assert s.diff(RETRY_BUDGET).new == 1


def test_runs_are_recorded_with_counts_rejections_and_a_summary(ledger: Ledger) -> None:
    from syncd.ledger import Rejection

    with ledger.session("d") as s:
        first = s.begin_run("schedule", "sha-1")
        s.record_rejections(first, [Rejection("vip", 7, "email is empty")])
        s.finish_run(first, "success", {"upserted": 3}, None)
        second = s.begin_run("manual", "sha-2")
        s.finish_run(second, "temporary", {"upserted": 0}, "SendGrid answered 503")
    (summary,) = ledger.summaries()
    assert summary.last_run.id == second
    assert summary.last_run.error == "SendGrid answered 503"
    assert summary.last_success_at is not None
    runs = ledger.runs("d")
    assert [r.outcome for r in runs] == ["temporary", "success"]
    assert runs[1].counts == {"upserted": 3}
    assert [(r.segment, r.row, r.reason) for r in ledger.rejections(first)] == [
        ("vip", 7, "email is empty")
    ]


def test_a_newer_claim_on_a_destination_fences_off_the_older_session(ledger: Ledger) -> None:
    with ledger.session("d") as old, ledger.session("d") as new:
        assert new.epoch > old.epoch
        with pytest.raises(LedgerConflict, match="claimed by another run"):
            old.begin_run("schedule", "x")
        new.begin_run("schedule", "x")


emails = st.sampled_from([f"{c}@x.io" for c in "abcdefghij"])
states = st.dictionaries(emails, st.integers(min_value=-3, max_value=3), max_size=10)


def stage_state(session: LedgerSession, state: dict[str, int]) -> None:
    load(session, state)


@pytest.mark.slow
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=states, after=states)
def test_applying_a_plan_reaches_the_desired_state_and_replanning_is_a_no_op(
    ledger: Ledger, before: dict[str, int], after: dict[str, int]
) -> None:
    with ledger.session("prop") as s:
        stage_state(s, before)
        send_all(s)
        remove_all(s)
        stage_state(s, after)
        d = s.diff(RETRY_BUDGET)
        assert d.desired == d.new + d.changed + d.unchanged + d.held + d.exhausted
        previously = set(before)
        assert d.new == len(set(after) - previously)
        assert d.changed == sum(1 for e in after if e in before and before[e] != after[e])
        assert d.gone == len(previously - set(after))
        send_all(s)
        remove_all(s)
        stage_state(s, after)  # the next run
        again = s.diff(RETRY_BUDGET)
        assert (again.to_send, again.gone, again.acked) == (0, 0, len(after))
        # leave nothing for the next example
        stage_state(s, {})
        remove_all(s)


def test_the_field_generation_moves_only_when_a_known_field_changes_id(ledger: Ledger) -> None:
    with ledger.session("d") as s:
        first = s.field_generation({"tier": ("e1_T", "Text")}, record=True)
        assert (
            s.field_generation(
                {"tier": ("e1_T", "Text"), "orders": ("e2_N", "Number")}, record=True
            )
            == first
        )
        assert s.field_generation({"Tier": ("e7_T", "Text")}, record=False) == first + 1
        assert s.field_generation({"tier": ("e1_T", "Text")}, record=True) == first
        assert s.field_generation({"tier": ("e7_T", "Text")}, record=True) == first + 1
        assert s.field_generation({"tier": ("e7_T", "Text")}, record=True) == first + 1


def test_a_second_sqlite_writer_is_refused_but_readers_are_welcome(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = open_ledger(str(path))
    try:
        with pytest.raises(LedgerConflict, match="another syncd process"):
            open_ledger(str(path))
        reader = open_ledger(str(path), writer=False)
        assert reader.summaries() == []
        reader.close()
    finally:
        first.close()


def test_a_reader_of_a_ledger_created_but_not_yet_migrated_sees_nothing_recorded(
    tmp_path: Path,
) -> None:
    """`syncd status` in the moment a writer has created the file but not its tables: an
    empty ledger, not one "damaged or replaced"."""
    path = tmp_path / "state.db"
    path.touch(mode=0o600)  # as the writer leaves it before migrating
    reader = open_ledger(str(path), writer=False)
    try:
        assert reader.runs("members", 1) == []
        assert reader.summaries() == []
        reader.ping()
    finally:
        reader.close()
