"""The ledger's diff: what a staged segment sends, keeps and removes; runs, claims and
the SQLite file's writers and readers."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.contacts import ContactBuilder
from syncd.destinations import Mapping
from syncd.errors import ClaimLost, LedgerConflict
from syncd.ledger import (
    BUCKET_MASK,
    GROUP_SHIFT,
    GROUPS,
    RETRY_BUDGET,
    Ledger,
    LedgerSession,
    open_ledger,
)
from syncd.reconciling.staging import Staged, build_stale
from tests.ledger.state import BINDING, BUILDER, load, remove_all, send_all

UNSIGNED_64 = (1 << 64) - 1


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


def test_destinations_do_not_see_each_other(ledger: Ledger) -> None:
    with ledger.session("one") as s:
        assert not s.holds_acked()
        load(s, {"a@x.io": 1})
        assert not s.holds_acked()  # staged, not acknowledged
        send_all(s)
        assert s.holds_acked()
        assert s.acked_count() == 1
    with ledger.session("two") as s:
        assert not s.holds_acked()
        assert s.acked_count() == 0
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
        with pytest.raises(ClaimLost, match="claimed by another run") as lost:
            old.begin_run("schedule", "x")
        assert lost.value.outcome == "temporary"  # tried again later, never a stall
        new.begin_run("schedule", "x")


def test_a_run_left_without_an_end_is_closed_as_interrupted_when_the_next_begins(
    ledger: Ledger,
) -> None:
    with ledger.session("d") as s:
        killed = s.begin_run("schedule", "sha-1")  # the process dies: no finish_run
    with ledger.session("other") as s:
        elsewhere = s.begin_run("schedule", "sha-1")  # another destination's: left alone
    assert ledger.runs("d")[0].outcome is None
    killed_at = ledger.runs("d")[0].started_at
    with ledger.session("d") as s:
        # The next run's start was taken before its claim (as a run's is): the interrupted
        # one ended then, not when the claim was written, or the two would overlap.
        after = s.begin_run("schedule", "sha-1", started_at=killed_at + 0.5)
        s.finish_run(after, "success", {}, None)
    runs = {r.id: r for r in ledger.runs("d")}
    assert runs[killed].outcome == "temporary"
    assert (runs[killed].error or "").startswith("interrupted")
    assert runs[killed].ended_at == killed_at + 0.5 == runs[after].started_at
    assert runs[after].outcome == "success"
    assert ledger.runs("other")[0].id == elsewhere
    assert ledger.runs("other")[0].outcome is None


def test_an_interrupted_run_never_ends_before_it_began_whatever_the_clocks(
    ledger: Ledger,
) -> None:
    with ledger.session("d") as s:
        killed = s.begin_run("schedule", "sha-1")
    killed_at = ledger.runs("d")[0].started_at
    with ledger.session("d") as s:  # another replica, its clock a second behind
        s.begin_run("schedule", "sha-1", started_at=killed_at - 1)
    (ended,) = [r for r in ledger.runs("d") if r.id == killed]
    assert ended.ended_at == killed_at


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


def test_the_acknowledged_prints_of_the_buckets_that_differ_and_nothing_else(
    ledger: Ledger,
) -> None:
    """`acked_raws_within` (a run's matching) and `acked_in_buckets` (an audit's) read the
    buckets of a `bucket_mask`, on each backend: every print of those buckets, by group."""
    state = {f"p{i}@x.io": i for i in range(400)}
    raws = {}
    for email, value in state.items():
        keyed = BUILDER.key([email, f"v{value}"])
        assert not isinstance(keyed, str)
        raws[email] = keyed[1] & UNSIGNED_64
    chosen = {raw & BUCKET_MASK for raw in list(raws.values())[::3]}
    with ledger.session("d") as s:
        load(s, state)
        send_all(s)
        s.declare_differing(chosen)
        by_group = [sorted(group) for group in s.acked_raws_within()]
        printed = s.acked_prints(list(state))
        picked = {print_ & BUCKET_MASK for print_ in list(printed.values())[::5]}
        in_buckets = dict(s.acked_in_buckets(sorted(picked)))
    within = [raw for raw in raws.values() if raw & BUCKET_MASK in chosen]
    assert len(within) >= 134
    assert by_group == [
        sorted(raw for raw in within if (raw & BUCKET_MASK) >> GROUP_SHIFT == group)
        for group in range(GROUPS)
    ]
    assert in_buckets == {
        email: print_ for email, print_ in printed.items() if print_ & BUCKET_MASK in picked
    }
    assert 80 <= len(in_buckets) < 400


def test_the_leavers_given_up_on_are_counted_until_their_departure_is_forgotten(
    ledger: Ledger,
) -> None:
    # Counted on every run: the run that gave up told them, the next ones said nothing.
    with ledger.session("d") as s:
        assert s.not_removed() == 0
        s.removed(["stuck@example.com", "long@example.com"], how="notRemoved")
        s.removed(["gone@example.com"])
        assert s.not_removed() == 2
    with ledger.session("other") as s:
        assert s.not_removed() == 0
