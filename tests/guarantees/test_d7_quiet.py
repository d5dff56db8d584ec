"""D7: refreshes with no change in the source write nothing to SendGrid.

A running daemon is asked ten times to sync (`POST /v1/destinations/NAME/sync`, as
`syncd sync NAME` does when a daemon owns the ledger) after its first run. The segment
also holds rows syncd refuses (an address without `@`, one SendGrid would refuse), so
"nothing to send" includes "nothing to send again". Required (guarantees.md, D7): 0 write requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.guarantees.harness import Scene, record_figure

LIST_READ = "GET /v3/marketing/lists/{id}"


def handled(request: int) -> Callable[[Any], bool]:
    return lambda status: bool(status["lastHandledRequest"] >= request)


async def test_ten_refreshes_without_a_source_change_write_nothing(scene: Scene) -> None:
    s = scene
    refused = ["no-at-sign.example.com", "Someone.Else@Example"]
    s.segment.extra_rows = [{"Email": e, "FirstName": "X", "LastName": "Y"} for e in refused]
    s.segment.ever.update(refused)
    s.segment.write()
    daemon = s.daemon()
    await daemon.start()
    await daemon.until(
        f"/v1/destinations/{s.name}", lambda b: (b["lastRun"] or {}).get("outcome") == "success"
    )
    writes = len(s.emulator.write_requests())
    reads = s.emulator.count_requests(template=LIST_READ)

    outcomes = []
    for _ in range(10):
        code, body = await daemon.post(f"/v1/destinations/{s.name}/sync")
        assert code == 202, body
        status = await daemon.until(f"/v1/destinations/{s.name}", handled(body["request"]))
        outcomes.append(status["lastRun"]["outcome"])
        assert status["lastRun"]["counts"]["rejected"] == 2
    assert await daemon.stop() == 0, daemon.output()[-3000:]

    refreshes = s.emulator.count_requests(template=LIST_READ) - reads
    new_writes = len(s.emulator.write_requests()) - writes
    record_figure("D7", refreshes=refreshes, write_requests=new_writes)
    assert outcomes == ["success"] * 10
    assert refreshes == 10  # each refresh really ran against SendGrid
    assert new_writes == 0
    result = await s.audit()
    assert result.lost == []
    assert result.repeats == 0
