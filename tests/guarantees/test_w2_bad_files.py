"""W2: bad destination files dropped beside a good one in a running daemon's directory.

Invalid YAML, an alias bomb, a duplicate key, a 2 MiB file (and a 1 GiB sparse one), a
symlink escaping the directory, a FIFO, binary data and an inline key appear next to
`members.yaml` while `syncd run` watches the directory (rescanning every 0.2 s, and on
every event). Required (guarantees.md, W2): each is refused with its reason (status, log); the other
destination keeps syncing; the daemon's resident memory grows by less than 50 MB.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from typing import Any

import pytest

from tests.corpus import BAD_FILES, DESTINATIONS, MIB, destination_text
from tests.guarantees.harness import Scene, record_figure

COPIED = (
    "malformed.yaml",
    "alias-bomb.yaml",
    "duplicate-key.yaml",
    "inline-key.yaml",
    "python-tag.yaml",
    "deep.yaml",
)
MADE = ("huge.yaml", "huge-sparse.yaml", "escape.yaml", "fifo.yaml", "binary.yaml")
RSS_LIMIT_KIB = 50 * 1024


def drop_bad_files(scene: Scene) -> None:
    directory = scene.destinations
    for name in COPIED:
        shutil.copyfile(DESTINATIONS / name, directory / name)
    (directory / "huge.yaml").write_bytes((b"#" * 63 + b"\n") * (2 * MIB // 64))
    with (directory / "huge-sparse.yaml").open("wb") as sparse:
        sparse.truncate(1024 * MIB)
    outside = scene.root / "outside"
    outside.mkdir()
    (outside / "escaped.yaml").write_text(destination_text("escaped"))
    (directory / "escape.yaml").symlink_to("../outside/escaped.yaml")
    os.mkfifo(directory / "fifo.yaml")
    (directory / "binary.yaml").write_bytes(bytes(range(256)) * 64)


def shown(problem: dict[str, Any]) -> str:
    """A problem of the status document as `file:line:column: message`."""
    where = problem["file"]
    for part in ("line", "column"):
        if problem[part] is not None:
            where += f":{problem[part]}"
    return f"{where}: {problem['message']}"


def expected_problem(name: str) -> str:
    if name == "huge-sparse.yaml":
        return "1024 MiB, more than the limit of 256 KiB a file; refused before parsing"
    if name == "binary.yaml":
        return "1:1: character #x0000 is not allowed in YAML"
    (bad,) = [b for b in BAD_FILES if b.name == name]
    return bad.problems[0]


@pytest.mark.slow
async def test_bad_files_are_refused_with_a_reason_while_the_good_one_keeps_syncing(
    scene: Scene,
) -> None:
    s = scene
    s.write_destination(schedule={"interval": "1s"})
    daemon = s.daemon(SYNCD_RESCAN_INTERVAL="0.2")
    await daemon.start()
    await daemon.until(
        "/v1/destinations/members", lambda b: (b["lastRun"] or {}).get("outcome") == "success"
    )
    await asyncio.sleep(1)  # a few runs and rescans: the baseline is a warm process
    before = daemon.rss_kib()

    drop_bad_files(s)
    body = await daemon.until(
        "/v1/destinations", lambda b: len(b["invalidFiles"]) == len(COPIED) + len(MADE)
    )
    problems = [shown(p) for entry in body["invalidFiles"] for p in entry["problems"]]
    for name in (*COPIED, *MADE):
        said = [p for p in problems if p.startswith(f"{s.destinations}/{name}")]
        assert said, name
        assert expected_problem(name) in said[0], said

    s.segment.churn(changes=30, adds=10, removes=5)
    s.segment.write()
    synced = await s.until_converged(within=15)
    for _ in range(10):  # keep the daemon rescanning the bad files, and re-reading them
        for name in ("alias-bomb.yaml", "malformed.yaml", "duplicate-key.yaml"):
            (s.destinations / name).touch()
        await asyncio.sleep(0.25)
    status: dict[str, Any] = await daemon.status()
    after = daemon.rss_kib()
    assert await daemon.stop() == 0, daemon.output()[-3000:]

    log = daemon.output()
    record_figure(
        "W2",
        bad_files=len(COPIED) + len(MADE),
        refused=len(body["invalidFiles"]),
        good_destination_synced=synced,
        rss_before_mib=round(before / 1024, 1),
        rss_after_mib=round(after / 1024, 1),
        rss_growth_mib=round((after - before) / 1024, 1),
    )
    assert sorted(entry["file"] for entry in body["invalidFiles"]) == sorted((*COPIED, *MADE))
    assert synced  # the good destination went on syncing
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert after - before < RSS_LIMIT_KIB
    assert '"event": "config.problem"' in log
    assert "InlineKeyMustNeverEcho" not in log + str(body)
    result = await s.audit()
    assert result.lost == []
