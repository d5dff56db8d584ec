"""The Ready condition of a successful run says whether the list is wholly the segments:
rows and contacts it did not carry out, and leavers still to be taken off, are named."""

from __future__ import annotations

from syncd.ledger import RunRecord
from syncd.scheduling.status import DestinationStatus


def ready(**counts: int) -> str:
    status = DestinationStatus(name="vip", file="vip.yaml", digest="d", owned=True)
    status.finished("success", counts, None, 1_800_000_000.0)
    (condition,) = [c for c in status.shape().conditions if c.type == "Ready"]
    assert condition.status == "True"
    return condition.message


def test_a_run_that_carried_out_everything_says_the_list_equals_the_segments() -> None:
    assert ready(profiles=40, upserted=40) == "the list equals the segments"


def test_refused_rows_and_contacts_are_counted_and_where_to_see_why() -> None:
    assert ready(profiles=40, rejected=5) == (
        "the list equals the segments but for 5 rows or contacts not carried out "
        "(syncd status vip --rejections says why)"
    )


def test_leavers_still_waiting_to_be_taken_off_are_counted() -> None:
    assert ready(profiles=40, rejected=1, pending_removals=1_200) == (
        "the list equals the segments but for 1 row or contact not carried out "
        "(syncd status vip --rejections says why) and 1,200 leavers still to be taken off"
    )


def test_a_run_without_an_end_takes_back_the_ready_of_the_run_before_it() -> None:
    # `syncd status` read from the ledger after a crash said "the list equals the
    # segments" (the run before's) while the crashed run's removal batch was never sent.
    status = DestinationStatus(name="vip", file="vip.yaml", digest="d", owned=True)
    ended = RunRecord(3, "vip", "schedule", "d", 100.0, 110.0, "success", {"profiles": 9})
    crashed = RunRecord(4, "vip", "schedule", "d", 200.0, None, None)
    status.restore([ended, crashed], last_success_at=110.0)

    (condition,) = [c for c in status.shape().conditions if c.type == "Ready"]
    assert (condition.status, condition.reason) == ("False", "RunNotEnded")
    assert condition.message.startswith("run #4 has not ended")
