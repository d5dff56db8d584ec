"""The catalog: every file's result, one name one file, one list one owner, digests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from syncd.loading import Catalog, Problem, load_directory, load_paths
from tests.loading.examples import LIST_ID, VALID, changed, destination, line_of, other_list, write
from tests.policy import allowing


def problems_of(catalog: Catalog) -> list[str]:
    return [str(problem) for problem in catalog.problems]


def test_a_valid_file_becomes_a_loaded_destination_with_its_digest(tmp_path: Path) -> None:
    path = write(tmp_path, "vip.yaml", VALID)

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert catalog.directory == tmp_path
    assert catalog.problems == ()
    loaded = catalog.destinations["vip-newsletter"]
    assert loaded.path == path
    assert loaded.digest == hashlib.sha256(VALID.encode()).hexdigest()
    assert loaded.definition.spec.mapping.email == "EmailAddress"
    result = catalog.files["vip.yaml"]
    assert (result.destination, result.digest, result.problems) == (loaded, loaded.digest, ())


def test_relative_source_paths_resolve_against_the_visible_file_directory(tmp_path: Path) -> None:
    write(tmp_path / "..2024_01_01", "vip.yaml", VALID)
    (tmp_path / "..data").symlink_to("..2024_01_01")
    (tmp_path / "vip.yaml").symlink_to("..data/vip.yaml")

    loaded = load_directory(tmp_path, allowing(tmp_path)).destinations["vip-newsletter"]

    assert loaded.resolve("../examples/data/vip.csv") == tmp_path / "../examples/data/vip.csv"
    assert loaded.resolve("/srv/data/vip.csv") == Path("/srv/data/vip.csv")


def test_one_bad_file_never_hides_the_others(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", destination("a", other_list(1)))
    write(tmp_path, "b.yaml", "spec: [unclosed\n")
    write(tmp_path, "c.yaml", destination("c", other_list(3)))

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert sorted(catalog.destinations) == ["a", "c"]
    assert list(catalog.files) == ["a.yaml", "b.yaml", "c.yaml"]
    assert catalog.invalid == ("b.yaml",)
    assert catalog.files["b.yaml"].digest is not None
    assert catalog.files["b.yaml"].destination is None


def test_two_files_with_one_name_are_both_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", destination("shared", other_list(1)))
    write(tmp_path, "b.yaml", destination("shared", other_list(2)))
    write(tmp_path, "c.yaml", destination("c", other_list(3)))
    line = line_of(VALID, "name: vip-newsletter")

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert problems_of(catalog) == [
        f"{tmp_path}/a.yaml:{line}:9: metadata.name: destination name 'shared' is also used by "
        "b.yaml; names must be unique",
        f"{tmp_path}/b.yaml:{line}:9: metadata.name: destination name 'shared' is also used by "
        "a.yaml; names must be unique",
    ]
    assert list(catalog.destinations) == ["c"]


def test_two_files_on_one_list_are_both_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", destination("a", LIST_ID))
    write(tmp_path, "b.yaml", destination("b", LIST_ID.upper()))
    write(tmp_path, "c.yaml", destination("c", LIST_ID))
    line = line_of(VALID, "listId")

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert problems_of(catalog) == [
        f"{tmp_path}/{name}.yaml:{line}:13: spec.sendgrid.listId: list {LIST_ID} is also "
        f"targeted by {others}; one list has one owner"
        for name, others in [
            ("a", "b.yaml, c.yaml"),
            ("b", "a.yaml, c.yaml"),
            ("c", "a.yaml, b.yaml"),
        ]
    ]
    assert catalog.destinations == {}


def test_an_invalid_file_does_not_take_part_in_ownership(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", destination("a", LIST_ID))
    write(tmp_path, "b.yaml", changed("onLeave: removeFromList", "onLeave: nuke"))

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert list(catalog.destinations) == ["a"]
    assert len(catalog.problems) == 1


def test_problems_come_in_a_stable_order_files_by_name_then_by_position(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", changed("onLeave: removeFromList", "onLeave: nuke\n  zzz: 1"))
    write(tmp_path, "a.yaml", "a: 1\na: 2\n")

    first = load_directory(tmp_path, allowing(tmp_path))
    second = load_directory(tmp_path, allowing(tmp_path))

    assert first.problems == second.problems
    assert [(Path(p.file).name, p.line) for p in first.problems] == [
        ("a.yaml", 2),
        ("b.yaml", line_of(VALID, "onLeave")),
        ("b.yaml", line_of(VALID, "onLeave") + 1),
    ]


def test_the_digest_is_stable_and_changes_with_names_or_bytes(tmp_path: Path) -> None:
    write(tmp_path, "vip.yaml", VALID)
    unchanged = load_directory(tmp_path, allowing(tmp_path)).digest

    assert load_directory(tmp_path, allowing(tmp_path)).digest == unchanged
    write(tmp_path, "vip.yaml", VALID + "# a comment\n")
    edited = load_directory(tmp_path, allowing(tmp_path)).digest
    (tmp_path / "vip.yaml").rename(tmp_path / "renamed.yaml")
    renamed = load_directory(tmp_path, allowing(tmp_path)).digest

    assert len({unchanged, edited, renamed}) == 3


def test_explicit_paths_mix_files_and_directories_keyed_by_path(tmp_path: Path) -> None:
    single = write(tmp_path / "one", "a.yaml", destination("a", other_list(1)))
    write(tmp_path / "many", "b.yaml", destination("b", other_list(2)))
    write(tmp_path / "many", "c.yaml", destination("c", other_list(1)))

    catalog = load_paths([single, tmp_path / "many", tmp_path / "absent.yaml"], allowing(tmp_path))

    assert catalog.directory is None
    assert list(catalog.files) == sorted(
        [
            str(single),
            str(tmp_path / "many/b.yaml"),
            str(tmp_path / "many/c.yaml"),
            str(tmp_path / "absent.yaml"),
        ]
    )
    assert list(catalog.destinations) == ["b"]
    assert (
        f"also targeted by {tmp_path / 'many/c.yaml'}"
        in catalog.files[str(single)].problems[0].message
    )
    assert str(catalog.files[str(tmp_path / "absent.yaml")].problems[0]) == (
        f"{tmp_path}/absent.yaml: no such file or directory"
    )


def test_a_single_directory_given_explicitly_loads_like_the_directory(tmp_path: Path) -> None:
    write(tmp_path, "vip.yaml", VALID)

    assert load_paths([tmp_path], allowing(tmp_path)) == load_directory(
        tmp_path, allowing(tmp_path)
    )


def test_an_explicit_file_may_have_any_name(tmp_path: Path) -> None:
    path = write(tmp_path, "vip.txt", VALID)

    catalog = load_paths([path], allowing(tmp_path))

    assert list(catalog.destinations) == ["vip-newsletter"]


def test_a_problem_prints_as_file_line_column_message() -> None:
    assert str(Problem("a.yaml", 3, 7, "broken")) == "a.yaml:3:7: broken"
    assert str(Problem("a.yaml", 3, None, "broken")) == "a.yaml:3: broken"
    assert str(Problem("a.yaml", None, None, "broken")) == "a.yaml: broken"


def test_a_file_that_crashes_validation_does_not_hide_the_others(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", destination("a", other_list(1)))
    write(tmp_path, "b.yaml", changed("interval: 1h", "interval: 1h, jitter: .inf"))

    catalog = load_directory(tmp_path, allowing(tmp_path))

    assert list(catalog.destinations) == ["a"]
    assert catalog.invalid == ("b.yaml",)
