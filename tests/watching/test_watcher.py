"""The watcher on a real directory: writes, renames, ConfigMap swaps, breakage, deletion."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from syncd.loading import load_directory
from syncd.metrics import Metrics
from syncd.watching import Desired, Merger, Watcher
from tests.policy import allowing

LIST_A = "11111111-1111-4111-8111-111111111111"
LIST_B = "22222222-2222-4222-8222-222222222222"
LIST_HEX = "abcdef12-3456-4abc-8def-0123456789ab"


def document(name: str, list_id: str, display: str = "x") -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "syncd/v1",
            "kind": "SendGridDestination",
            "metadata": {"name": name},
            "spec": {
                "displayName": display,
                "sendgrid": {"apiKey": {"env": "K"}, "listId": list_id},
                "consent": {"dataPrivacyAcknowledged": True},
                "segments": [{"name": "s", "source": {"csv": {"path": "s.csv"}}}],
                "mapping": {"email": "Email"},
            },
        }
    )


class Recorder:
    def __init__(self) -> None:
        self.published: list[Desired] = []
        self.changed = asyncio.Event()

    async def __call__(self, desired: Desired) -> None:
        self.published.append(desired)
        self.changed.set()

    @property
    def last(self) -> Desired:
        return self.published[-1]

    async def next(self, within: float) -> Desired:
        self.changed.clear()
        await asyncio.wait_for(self.changed.wait(), within)
        return self.last


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[tuple[Path, Recorder, Watcher]]:
    directory = tmp_path / "destinations.d"
    directory.mkdir()
    (directory / "a.yaml").write_text(document("a", LIST_A))
    recorder = Recorder()
    watcher = Watcher(
        directory,
        recorder,
        Metrics(),
        allowlists=allowing(tmp_path),
        rescan_interval=30,
        debounce=0.2,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop), name="watcher")
    await asyncio.wait_for(watcher.loaded.wait(), 5)
    yield directory, recorder, watcher
    stop.set()
    await task


async def test_a_plain_write_is_picked_up_within_the_debounce(
    watched: tuple[Path, Recorder, Watcher],
) -> None:
    directory, recorder, _ = watched
    (directory / "b.yaml").write_text(document("b", LIST_B))
    desired = await recorder.next(within=3)
    assert set(desired.destinations) == {"a", "b"}


async def test_an_editor_style_rename_is_picked_up(
    watched: tuple[Path, Recorder, Watcher],
) -> None:
    directory, recorder, _ = watched
    swap = directory / ".a.yaml.swp"
    swap.write_text(document("a", LIST_A, display="edited"))
    swap.replace(directory / "a.yaml")
    desired = await recorder.next(within=3)
    assert desired.destinations["a"].definition.spec.display_name == "edited"


async def test_a_broken_file_keeps_its_last_good_version_and_others_go_on(
    watched: tuple[Path, Recorder, Watcher],
) -> None:
    directory, recorder, _ = watched
    (directory / "b.yaml").write_text(document("b", LIST_B))
    await recorder.next(within=3)
    (directory / "a.yaml").write_text("apiVersion: [unclosed\n")
    desired = await recorder.next(within=3)
    assert set(desired.destinations) == {"a", "b"}
    assert desired.invalid_files == ("a.yaml",)
    assert desired.stale["a"]
    assert any(str(p).startswith(str(directory / "a.yaml")) for p in desired.problems)


async def test_a_deleted_file_stops_only_after_two_scans(
    watched: tuple[Path, Recorder, Watcher],
) -> None:
    directory, recorder, watcher = watched
    (directory / "a.yaml").unlink()
    await watcher.scan()
    assert "a" in recorder.last.destinations
    await watcher.scan()
    assert "a" not in recorder.last.destinations


async def test_a_configmap_data_swap_is_picked_up(tmp_path: Path) -> None:
    directory = tmp_path / "mounted"
    directory.mkdir()

    def publish_version(version: str, content: str) -> None:
        target = directory / f"..{version}"
        target.mkdir()
        (target / "a.yaml").write_text(content)
        link = directory / "..data_tmp"
        link.symlink_to(target.name)
        link.replace(directory / "..data")

    publish_version("2026_11_29_v1", document("a", LIST_A, display="v1"))
    (directory / "a.yaml").symlink_to("..data/a.yaml")
    recorder = Recorder()
    watcher = Watcher(
        directory,
        recorder,
        Metrics(),
        allowlists=allowing(tmp_path),
        rescan_interval=30,
        debounce=0.2,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop), name="watcher")
    try:
        await asyncio.wait_for(watcher.loaded.wait(), 5)
        publish_version("2026_11_29_v2", document("a", LIST_A, display="v2"))
        desired = await recorder.next(within=3)
        assert desired.destinations["a"].definition.spec.display_name == "v2"
    finally:
        stop.set()
        await task


async def test_without_events_the_rescan_timer_finds_changes(tmp_path: Path) -> None:
    directory = tmp_path / "quiet"
    directory.mkdir()
    (directory / "a.yaml").write_text(document("a", LIST_A, display="one"))
    recorder = Recorder()
    watcher = Watcher(
        directory,
        recorder,
        Metrics(),
        allowlists=allowing(tmp_path),
        rescan_interval=0.3,
        debounce=0.1,
    )
    watcher._events = _no_events  # type: ignore[method-assign]  # a filesystem without events
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop), name="watcher")
    try:
        await asyncio.wait_for(watcher.loaded.wait(), 5)
        (directory / "a.yaml").write_text(document("a", LIST_A, display="two"))
        os.utime(directory / "a.yaml")
        desired = await recorder.next(within=2)
        assert desired.destinations["a"].definition.spec.display_name == "two"
    finally:
        stop.set()
        await task


async def _no_events(stop: asyncio.Event) -> None:
    await stop.wait()


@pytest.mark.parametrize(
    "written_by_b",
    [LIST_HEX, LIST_HEX.upper()],
    ids=["the same id", "the id in capitals"],
)
def test_a_kept_version_never_shares_its_list_with_a_valid_file(
    tmp_path: Path, written_by_b: str
) -> None:
    (tmp_path / "a.yaml").write_text(document("a", LIST_HEX))
    merger = Merger()
    merger.merge(load_directory(tmp_path, allowing(tmp_path)))
    (tmp_path / "a.yaml").write_text("not: [valid\n")
    (tmp_path / "b.yaml").write_text(document("b", written_by_b))
    desired = merger.merge(load_directory(tmp_path, allowing(tmp_path)))
    assert desired is not None
    assert set(desired.destinations) == {"b"}
    assert any("now targeted by b.yaml" in str(p) for p in desired.problems)


def test_a_directory_refused_as_a_whole_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(document("a", LIST_A))
    merger = Merger()
    before = merger.merge(load_directory(tmp_path, allowing(tmp_path)))
    for n in range(501):
        (tmp_path / f"x{n}.yaml").write_text("{}")
    after = merger.merge(load_directory(tmp_path, allowing(tmp_path)))
    assert after is before
