"""How a plan document reads on a terminal and in a pull request, from documents built
here (the plans themselves: test_plans.py)."""

from __future__ import annotations

from syncd.cli.plan_output import plan_text
from syncd.shapes import Counts, Example, PlanDocument, PlanEntry
from syncd.shapes.plans import Examples


def entry(**fields: object) -> PlanEntry:
    return PlanEntry.model_validate(
        {"name": "members", "file": "members.yaml", "result": "changes", **fields}
    )


def test_the_rejected_rows_reasons_come_under_their_count_not_under_the_moved_away() -> None:
    # `moved away` was printed between `rejected 1` and its row's reason, which then read as
    # the reason of the move.
    planned = entry(
        counts=Counts(rows=3, profiles=2, unchanged=2, rejected=1, moved_away=4),
        examples=Examples(
            rejected=[Example(email="b***@example.com", segment="vip", row=3, reason="bad")]
        ),
    )
    lines = plan_text(PlanDocument(destinations=[planned])).splitlines()
    rejected = next(i for i, line in enumerate(lines) if line.startswith("  rejected"))
    assert lines[rejected + 1] == "    vip row 3: bad"
    assert lines[rejected + 2].startswith("  moved away          4  (on the former list")
