"""Destination files → a `Catalog`: every file's result, the valid destinations, the problems.

One bad file never hides the others: each file is read, parsed and validated on
its own and held to the operator's allowlists (`loading.policy`), then a
catalog-level pass refuses the files that clash with another (two files with one
`metadata.name`, or two files targeting one SendGrid list: `loading.owners`).
Loading only parses and validates destination files; it does not touch the network,
read source data or resolve secrets, and reads no setting itself: the caller passes
the `Allowlists` built from its settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from syncd.allowlists import Allowlists
from syncd.destinations import Destination
from syncd.loading.files import RawFile, read_directory, read_file
from syncd.loading.owners import every_clash
from syncd.loading.policy import refusals
from syncd.loading.problems import Problem, sorted_problems
from syncd.loading.validation import validate
from syncd.loading.yaml_reading import DataPath, NodeInfo, read_yaml

_NAME_PATH: DataPath = ("metadata", "name")
_LIST_PATH: DataPath = ("spec", "sendgrid", "listId")


@dataclass(frozen=True)
class LoadedDestination:
    """A valid destination and the file it came from."""

    definition: Destination
    path: Path
    """The visible path, not symlink-resolved: a ConfigMap's `..data` target changes on
    every update, the visible name does not."""
    digest: str
    """sha256 (hex) of the file's bytes."""
    allowlists: Allowlists
    """The policy the file was admitted under: runs check its references against it again."""

    @property
    def name(self) -> str:
        return self.definition.name

    def resolve(self, relative: str) -> Path:
        """A path written in the file (a source), relative to the file's own directory."""
        given = Path(relative)
        return given if given.is_absolute() else self.path.parent / given


@dataclass(frozen=True)
class FileResult:
    """What became of one file: a destination, or the problems that refused it."""

    path: Path
    digest: str | None
    """sha256 (hex) of the bytes, None when the file could not be read safely."""
    destination: LoadedDestination | None
    problems: tuple[Problem, ...]

    @property
    def valid(self) -> bool:
        return self.destination is not None


@dataclass(frozen=True)
class Catalog:
    """Every destination file considered at one moment.

    `files` holds every file considered, keyed by its name in the directory (by its
    path when files and directories were named explicitly). When `problems` holds a
    directory-level problem (unreadable, over 500 files or 1 MiB), `files` is empty:
    the directory was refused as a whole and `complete` is False; a watcher should
    keep what it had. `digest` changes whenever a file's name or bytes change.
    """

    directory: Path | None
    files: Mapping[str, FileResult]
    destinations: Mapping[str, LoadedDestination]
    problems: tuple[Problem, ...]
    digest: str
    directory_problems: tuple[Problem, ...] = field(default=(), repr=False)

    @property
    def complete(self) -> bool:
        """True when no directory-level problem kept files from being considered."""
        return not self.directory_problems

    @property
    def invalid(self) -> tuple[str, ...]:
        """Keys of the files that were refused."""
        return tuple(key for key, result in self.files.items() if not result.valid)


@dataclass
class _Candidate:
    raw: RawFile
    definition: Destination | None
    nodes: Mapping[DataPath, NodeInfo]
    problems: list[Problem]


def load_directory(directory: Path, allowlists: Allowlists) -> Catalog:
    """Load every visible `*.yaml`/`*.yml` file of a directory."""
    listing = read_directory(directory)
    return _catalog(directory, listing.files, listing.problems, allowlists)


def load_with(
    directory: Path,
    candidates: Mapping[str, bytes],
    allowlists: Allowlists,
    removed: Collection[str] = (),
) -> Catalog:
    """The directory as it would be with the `candidates` (name → bytes) added, or replacing
    the files of those names, and the files named in `removed` gone: what it would load if
    a pull request were deployed (`POST /v1/plans`; a renamed file is one removed and one
    added). Each candidate is keyed by its name and placed in the directory (its relative
    paths resolve there); clashes with the directory's other files are found as usual."""
    listing = read_directory(directory)
    raws = {raw.key: raw for raw in listing.files if raw.key not in removed}
    for name, text in candidates.items():
        digest = hashlib.sha256(text).hexdigest()
        raws[name] = RawFile(name, directory / name, text, digest, ())
    return _catalog(directory, tuple(raws.values()), listing.problems, allowlists)


def load_paths(paths: Sequence[Path], allowlists: Allowlists) -> Catalog:
    """Load files and directories named explicitly (`syncd validate PATH...`).

    A single directory is loaded exactly as `load_directory` would. Otherwise files
    are keyed by path, and one-list-one-owner holds across everything named.
    """
    if len(paths) == 1 and paths[0].is_dir():
        return load_directory(paths[0], allowlists)
    raws: dict[str, RawFile] = {}
    directory_problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            listing = read_directory(path, key=_path_key(path))
            directory_problems.extend(listing.problems)
            found: Iterable[RawFile] = listing.files
        else:
            found = (read_file(path, str(path)),)
        for raw in found:
            raws.setdefault(raw.key, raw)
    return _catalog(None, tuple(raws.values()), tuple(directory_problems), allowlists)


def _path_key(directory: Path) -> Callable[[str], str]:
    def key(name: str) -> str:
        return str(directory / name)

    return key


def _catalog(
    directory: Path | None,
    raws: Sequence[RawFile],
    directory_problems: tuple[Problem, ...],
    allowlists: Allowlists,
) -> Catalog:
    candidates = sorted((_candidate(raw, allowlists) for raw in raws), key=lambda c: c.raw.key)
    _refuse_clashes(candidates)
    files: dict[str, FileResult] = {}
    destinations: dict[str, LoadedDestination] = {}
    problems = list(directory_problems)
    for candidate in candidates:
        raw = candidate.raw
        loaded = None
        if candidate.definition is not None and not candidate.problems and raw.digest:
            loaded = LoadedDestination(candidate.definition, raw.path, raw.digest, allowlists)
            destinations[loaded.name] = loaded
        own = sorted_problems(candidate.problems)
        files[raw.key] = FileResult(raw.path, raw.digest, loaded, own)
        problems.extend(own)
    return Catalog(
        directory=directory,
        files=MappingProxyType(files),
        destinations=MappingProxyType(destinations),
        problems=tuple(problems),
        digest=_digest(files, directory_problems),
        directory_problems=directory_problems,
    )


def _candidate(raw: RawFile, allowlists: Allowlists) -> _Candidate:
    if raw.text is None:
        return _Candidate(raw, None, {}, list(raw.problems))
    document = read_yaml(raw.text, str(raw.path))
    definition, problems = validate(document, str(raw.path))
    if definition is not None:
        problems = (*problems, *refusals(definition, document.nodes, raw.path, allowlists))
    return _Candidate(raw, definition, document.nodes, list(problems))


def _refuse_clashes(candidates: Sequence[_Candidate]) -> None:
    """Both files are refused when two share a name or a list (`loading.owners`)."""
    valid = {c.raw.key: c for c in candidates if c.definition is not None and not c.problems}
    claimants = [(key, c.definition) for key, c in valid.items() if c.definition is not None]
    for clash in list(every_clash(claimants)):
        others = ", ".join(clash.others)
        if clash.claimed == "name":
            message = (
                f"destination name '{clash.value}' is also used by {others}; names must be unique"
            )
            _add(valid[clash.key], _NAME_PATH, f"metadata.name: {message}")
        else:
            message = f"list {clash.value} is also targeted by {others}; one list has one owner"
            _add(valid[clash.key], _LIST_PATH, f"spec.sendgrid.listId: {message}")


def _add(candidate: _Candidate, path: DataPath, message: str) -> None:
    node = candidate.nodes.get(path)
    line, column = (node.place.line, node.place.column) if node else (None, None)
    candidate.problems.append(Problem(str(candidate.raw.path), line, column, message))


def _digest(files: Mapping[str, FileResult], directory_problems: tuple[Problem, ...]) -> str:
    summary = {
        "files": sorted([key, result.digest] for key, result in files.items()),
        "directory": [str(problem) for problem in directory_problems],
    }
    return hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()
