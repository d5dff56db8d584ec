"""The destination page's open batches in words (`serving.page_sections.batches_section`)."""

from __future__ import annotations

from syncd.ledger import Batch
from syncd.serving.page_sections import batches_section


def batch(state: str, sends: int, job: str | None = None) -> Batch:
    return Batch(1, "upsert", state, "L", job, 0.0, None, 10, sends)  # type: ignore[arg-type]


def test_a_batch_whose_request_went_out_is_not_told_as_not_sent() -> None:
    # Its sends are counted as the request goes out: "recorded, not sent yet" beside
    # Sends 1 contradicted itself.
    assert "recorded, not sent yet" in batches_section([batch("prepared", 0)])
    on_the_wire = batches_section([batch("prepared", 1)])
    assert "sent, no answer yet" in on_the_wire
    assert "not sent yet" not in on_the_wire
    assert "job open at SendGrid" in batches_section([batch("submitted", 1, "j1")])
