"""`syncd status` as text, from status documents (`cli.status_text`)."""

from __future__ import annotations

from syncd.cli.status_text import status_detail, status_table
from syncd.serving.pages import card
from syncd.shapes import DestinationStatus, StatusDocument


def test_the_next_run_of_a_destination_running_now_is_after_its_run_not_never() -> None:
    # The run clears the next run and sets it as it ends: the CLI said "-", the page "never".
    running = DestinationStatus(name="vip", file="vip.yaml", digest="d", state="reconciling")
    idle = DestinationStatus(name="vip", file="vip.yaml", digest="d", state="ready")
    assert "  next run       after the run under way" in status_detail(running).splitlines()
    assert (
        status_table(StatusDocument(destinations=[running]))
        .splitlines()[1]
        .endswith("after the run under way")
    )
    assert "<dt>Next run</dt><dd>after the run under way</dd>" in card(running, link=True)
    assert "after the run under way" not in status_detail(idle) + card(idle, link=True)
