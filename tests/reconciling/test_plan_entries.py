"""A dry run told as a plan entry: which result, which guard, what is counted and shown."""

from __future__ import annotations

from typing import Any

from syncd.planning import DiffCounts, GuardStop, decide
from syncd.reconciling.plans import plan_entry
from syncd.reconciling.report import Preview, RunReport
from syncd.shapes import Example, Examples, FieldChange


def report(
    *, gone: int = 0, adds: int = 0, outcome: str = "success", **kwargs: object
) -> RunReport:
    diff = DiffCounts(
        desired=10 - gone, acked=10, new=adds, changed=0, unchanged=10 - gone - adds,
        gone=gone, held=0, exhausted=0,
    )  # fmt: skip
    made = RunReport("vip", "plan", outcome=outcome, **kwargs)  # type: ignore[arg-type]
    made.plan = decide(
        diff, on_leave="removeFromList", max_removal_fraction=0.2, allow_removals=False,
        destination="vip",
    )  # fmt: skip
    made.preview = Preview(adds=adds)
    return made


def entry(made: RunReport, **options: bool) -> dict[str, Any]:
    return plan_entry(made, file="vip.yaml", first_export=False, **options).wire()


def test_a_dry_run_with_nothing_to_send_plans_no_changes_and_with_adds_changes() -> None:
    assert entry(report())["result"] == "noChanges"
    assert entry(report(adds=2))["result"] == "changes"
    assert entry(report(adds=2))["counts"]["new"] == 2


def test_removals_held_back_by_a_guard_block_the_plan_and_name_the_guard() -> None:
    blocked = entry(report(gone=5))
    assert blocked["result"] == "blocked"
    (guard,) = blocked["guards"]
    assert guard["guard"] == "removalFraction"
    assert "syncd sync vip --allow-removals" in guard["howToPass"]
    assert blocked["counts"]["gone"] == 5


def test_a_guard_that_stopped_the_run_blocks_it_and_any_other_failure_is_an_error() -> None:
    stop = GuardStop("maxProfiles", "over the limit", "raise the limit")
    stopped = report(outcome="guard", error="over the limit; raise the limit", guard=stop)
    assert entry(stopped)["result"] == "blocked"
    failed = report(gone=5, outcome="temporary", error="SendGrid did not answer")
    assert (entry(failed)["result"], entry(failed)["error"]) == ("error", "SendGrid did not answer")
    assert entry(failed)["guards"] == []


def test_example_addresses_are_masked_unless_asked_for() -> None:
    shown = report(adds=1)
    change = FieldChange(field="first_name", before=None, after="Ana")
    shown.examples = Examples(add=[Example(email="ana@example.com", changes=[change])])
    assert entry(shown)["examples"]["add"][0]["email"] == "a***@example.com"
    whole = entry(shown, show_emails=True)
    assert whole["examples"]["add"][0]["email"] == "ana@example.com"
