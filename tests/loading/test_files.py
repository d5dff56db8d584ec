"""Scanning a directory safely: visible YAML files, contained symlinks, limits before parsing."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from syncd.loading import (
    MAX_DIRECTORY_BYTES,
    MAX_FILE_BYTES,
    MAX_FILES,
    Catalog,
    load_directory,
    load_paths,
)
from tests.loading.examples import VALID, destination, other_list, write
from tests.policy import allowing


def problems_of(catalog: Catalog) -> list[str]:
    return [str(problem) for problem in catalog.problems]


def configmap(directory: Path, files: dict[str, str], stamp: str = "..2024_01_01") -> None:
    """The layout kubelet writes: a hidden timestamped directory, `..data` → it, and
    visible symlinks through `..data`."""
    for name, text in files.items():
        write(directory / stamp, name, text)
    (directory / "..data_tmp").symlink_to(stamp)
    (directory / "..data_tmp").replace(directory / "..data")
    for name in files:
        if not (directory / name).is_symlink():
            (directory / name).symlink_to(Path("..data") / name)


def test_a_configmap_mount_loads_through_its_symlinks(tmp_path: Path) -> None:
    configmap(tmp_path, {"vip.yaml": VALID})

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert problems_of(catalog) == []
    assert list(catalog.files) == ["vip.yaml"]
    loaded = catalog.destinations["vip-newsletter"]
    assert loaded.path == tmp_path / "vip.yaml"


def test_a_configmap_swap_is_seen_on_the_next_load(tmp_path: Path) -> None:
    configmap(tmp_path, {"vip.yaml": VALID})
    before = load_directory(tmp_path, allowing(tmp_path))

    write(tmp_path / "..2024_01_02", "vip.yaml", destination(list_id=other_list(1)))
    (tmp_path / "..data_tmp").symlink_to("..2024_01_02")
    (tmp_path / "..data_tmp").replace(tmp_path / "..data")
    after = load_directory(tmp_path, allowing(tmp_path))

    assert before.digest != after.digest
    assert after.destinations["vip-newsletter"].definition.spec.sendgrid.list_id == other_list(1)


def test_hidden_entries_and_other_visible_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "vip.yml", VALID)
    write(tmp_path, ".hidden.yaml", "not: [valid")
    write(tmp_path, "README.md", "# notes")
    write(tmp_path, "vip.yaml.bak", "not: [valid")
    (tmp_path / "subdir").mkdir()

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert list(catalog.files) == ["vip.yml"]
    assert catalog.problems == ()


def test_a_symlink_escaping_the_directory_is_refused_without_reading_it(tmp_path: Path) -> None:
    secret = write(tmp_path / "elsewhere", "env", "SENDGRID_API_KEY: SG.canary-escape.value\n")
    directory = tmp_path / "destinations.d"
    write(directory, "vip.yaml", VALID)
    (directory / "leak.yaml").symlink_to(secret)

    catalog = load_directory(directory, allowing(tmp_path))

    assert problems_of(catalog) == [
        f"{directory}/leak.yaml: symlink points outside the destinations directory; refused"
    ]
    assert catalog.files["leak.yaml"].digest is None
    assert "vip-newsletter" in catalog.destinations


def test_a_symlink_to_proc_environ_never_echoes_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCD_TEST_CANARY", "SG.canary-environ.value")
    (tmp_path / "environ.yaml").symlink_to("/proc/self/environ")

    in_directory = load_directory(tmp_path, allowing(tmp_path))
    named = load_paths([tmp_path / "environ.yaml"], allowing(tmp_path))

    assert in_directory.destinations == {}
    assert named.destinations == {}
    for catalog in (in_directory, named):
        assert catalog.problems
        assert "canary" not in "\n".join(problems_of(catalog))


def test_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    write(tmp_path, "vip.yaml", VALID)
    result: list[Catalog] = []

    reader = threading.Thread(
        target=lambda: result.append(load_directory(tmp_path, allowing(tmp_path))), daemon=True
    )
    reader.start()
    reader.join(timeout=5)

    assert not reader.is_alive(), "loading blocked on a FIFO"
    assert problems_of(result[0]) == [f"{tmp_path}/pipe.yaml: not a regular file (a FIFO); refused"]
    assert "vip-newsletter" in result[0].destinations


def test_a_fifo_named_explicitly_is_refused_without_hanging(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    result: list[Catalog] = []

    reader = threading.Thread(
        target=lambda: result.append(load_paths([tmp_path / "pipe.yaml"], allowing(tmp_path))),
        daemon=True,
    )
    reader.start()
    reader.join(timeout=5)

    assert not reader.is_alive(), "loading blocked on a FIFO"
    assert problems_of(result[0]) == [f"{tmp_path}/pipe.yaml: not a regular file (a FIFO); refused"]


def test_a_device_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "null.yaml").symlink_to("/dev/null")

    catalog = load_paths([tmp_path / "null.yaml"], allowing(tmp_path))

    assert problems_of(catalog) == [f"{tmp_path}/null.yaml: not a regular file (a device); refused"]


def test_a_directory_named_like_a_yaml_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").mkdir()

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert problems_of(catalog) == [f"{tmp_path}/x.yaml: not a regular file (a directory); refused"]


def test_a_broken_symlink_is_refused(tmp_path: Path) -> None:
    (tmp_path / "gone.yaml").symlink_to("nowhere.yaml")

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert problems_of(catalog) == [
        f"{tmp_path}/gone.yaml: broken symlink: its target does not exist"
    ]


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert problems_of(catalog) == [
        f"{tmp_path}/a.yaml: cannot be resolved: symlink loop",
        f"{tmp_path}/b.yaml: cannot be resolved: symlink loop",
    ]


def test_a_2_mib_file_is_refused_by_size_before_parsing(tmp_path: Path) -> None:
    write(tmp_path, "big.yaml", b"a: [" + b"1, " * (2 * 1024 * 1024 // 3) + b"]\n")
    write(tmp_path, "vip.yaml", VALID)

    catalog = load_directory(tmp_path, allowing(tmp_path))

    (problem,) = catalog.problems
    assert problem.file == f"{tmp_path}/big.yaml"
    assert problem.line is None
    assert "more than the limit of 256 KiB a file; refused before parsing" in problem.message
    assert "vip-newsletter" in catalog.destinations


def test_a_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    padding = MAX_FILE_BYTES - len(VALID.encode())
    write(tmp_path, "vip.yaml", VALID + "#" * (padding - 1) + "\n")

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert catalog.problems == ()


def test_more_than_500_files_refuse_the_directory_as_a_whole(tmp_path: Path) -> None:
    for number in range(MAX_FILES + 1):
        write(tmp_path, f"d{number:03d}.yaml", "a: 1\n")

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert problems_of(catalog) == [
        f"{tmp_path}: {MAX_FILES + 1} destination files, more than the limit of {MAX_FILES}"
    ]
    assert catalog.files == {}
    assert not catalog.complete


def test_500_files_are_within_the_limit(tmp_path: Path) -> None:
    for number in range(MAX_FILES):
        write(tmp_path, f"d{number:03d}.yaml", destination(f"d{number:03d}", other_list(number)))

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert catalog.problems == ()
    assert len(catalog.destinations) == MAX_FILES


def test_a_directory_over_1_mib_in_total_is_refused_as_a_whole(tmp_path: Path) -> None:
    chunk = b"# padding\n" * (200 * 1024 // 10)
    for number in range(6):
        write(tmp_path, f"d{number}.yaml", chunk)
    assert 6 * len(chunk) > MAX_DIRECTORY_BYTES

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert problems_of(catalog) == [
        f"{tmp_path}: destination files total 1200 KiB, more than the limit of 1 MiB a "
        "directory; nothing loaded"
    ]
    assert catalog.files == {}
    assert not catalog.complete


def test_oversized_files_do_not_count_towards_the_directory_total(tmp_path: Path) -> None:
    for number in range(3):
        write(tmp_path, f"big{number}.yaml", b"#" * (MAX_FILE_BYTES + 1))
    write(tmp_path, "vip.yaml", VALID)

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert catalog.complete
    assert len(catalog.problems) == 3
    assert "vip-newsletter" in catalog.destinations


def test_a_missing_directory_is_a_directory_problem(tmp_path: Path) -> None:
    catalog = load_directory(tmp_path / "absent", allowing(tmp_path))

    assert problems_of(catalog) == [
        f"{tmp_path}/absent: cannot read the directory: no such file or directory"
    ]
    assert not catalog.complete


def test_a_file_given_as_the_directory_is_a_directory_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "vip.yaml", VALID)

    catalog = load_directory(path, allowing(tmp_path))

    assert problems_of(catalog) == [f"{path}: not a directory"]
