"""Threat 8 (medium): long lines were read whole.

A 400 MB single-line CSV or JSON Lines source took the daemon to 0.86-1.1 GB (the pod's
limit is 512 MiB): one bad file would have OOM-killed every destination. Now a line is
refused once it passes 1 MiB, while it is being read. The files here are sparse: 400 MB
of zero bytes, no line break, taking no disk. The reader's own memory is measured line
by line in tests/sources/test_memory.py; this measures the whole daemon.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syncd.emulator import Emulator
from tests.daemon.process import Daemon
from tests.reconciling.world import World, emails, people
from tests.security.common import env_for

SIZE = 400 * 1000 * 1000
LISTS = {
    "csv": "33333333-3333-4333-8333-333333333333",
    "jsonl": "44444444-4444-4444-8444-444444444444",
}


def sparse(path: Path, first_line: bytes) -> dict[str, object]:
    with path.open("wb") as handle:
        handle.write(first_line)
        handle.truncate(len(first_line) + SIZE)
    return {path.suffix.lstrip("."): {"path": f"../data/{path.name}"}}


def peak_mib(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1)) // 1024


@pytest.mark.slow
async def test_a_400_mb_single_line_source_is_refused_and_the_daemon_stays_under_200_mb(
    tmp_path: Path, emulator: Emulator
) -> None:
    world = World(tmp_path, emulator)
    world.ledger.close()
    world.destination({"vip": world.csv("vip", people(0, 5))})
    huge = {
        "csv": sparse(world.data / "huge.csv", b"EmailAddress\n"),
        "jsonl": sparse(world.data / "huge.jsonl", b'{"EmailAddress": "a@example.com"}\n'),
    }
    for kind, source in huge.items():
        world.destination(
            {"huge": source},
            name=f"huge-{kind}",
            sendgrid={"apiKey": {"env": "SENDGRID_API_KEY"}, "listId": LISTS[kind]},
            mapping={"email": "EmailAddress"},
        )
    daemon = Daemon(env_for(world))
    await daemon.start()
    try:
        refused = {
            kind: await daemon.until(
                f"/v1/destinations/huge-{kind}", lambda s: s["state"] == "stalled"
            )
            for kind in huge
        }
        await daemon.until("/v1/destinations/members", lambda s: s["state"] == "ready")
        assert daemon.process is not None
        peak = peak_mib(daemon.process.pid)
    finally:
        assert await daemon.stop() == 0, daemon.output()

    for kind, status in refused.items():
        assert status["lastRun"]["error"] == (
            f"{kind} huge.{kind}: line 2 is longer than the limit of 1 MiB; is it the right file?"
        )
    assert world.members() == emails(people(0, 5))  # the other destination synced
    assert peak < 200, f"the daemon peaked at {peak} MiB"
