"""Finding and reading destination files safely, within limits, before any parsing.

A directory is scanned for its visible entries (names not starting with `.`)
ending in `.yaml` or `.yml`; other visible files are ignored. A Kubernetes
ConfigMap mount has hidden `..data` and `..2024_...` entries and visible symlinks
into them, so symlinks are followed, but the real path must stay inside the real
directory and be a regular file. A FIFO is never opened (it is refused on `stat`,
and every open is non-blocking), and no file is read past its size limit.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from syncd.loading.problems import Problem

MAX_FILE_BYTES = 256 * 1024
MAX_DIRECTORY_BYTES = 1024 * 1024
MAX_FILES = 500
SUFFIXES = (".yaml", ".yml")

_OPEN_FLAGS = (
    os.O_RDONLY
    | os.O_NONBLOCK  # a FIFO swapped in after the check must not block the open
    | getattr(os, "O_NOFOLLOW", 0)  # the path is already resolved: no symlink swap either
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


@dataclass(frozen=True)
class RawFile:
    """One file considered: its bytes when they could be read safely, else why not."""

    key: str
    path: Path
    text: bytes | None
    digest: str | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Listing:
    """The files of a directory, or the directory-level problems that refused it whole."""

    files: tuple[RawFile, ...]
    problems: tuple[Problem, ...]


def is_candidate(name: str) -> bool:
    return not name.startswith(".") and name.endswith(SUFFIXES)


def read_directory(directory: Path, key: Callable[[str], str] = str) -> Listing:
    """Every visible `*.yaml`/`*.yml` file of `directory`, keyed by `key(name)`."""
    where = str(directory)
    try:
        real_directory = directory.resolve(strict=True)
        if not real_directory.is_dir():
            return Listing((), (Problem(where, None, None, "not a directory"),))
        names = sorted(entry.name for entry in directory.iterdir() if is_candidate(entry.name))
    except (OSError, RuntimeError) as error:
        return Listing(
            (), (Problem(where, None, None, f"cannot read the directory: {_why(error)}"),)
        )

    if len(names) > MAX_FILES:
        message = f"{len(names)} destination files, more than the limit of {MAX_FILES}"
        return Listing((), (Problem(where, None, None, message),))

    entries = [(directory / name, key(name)) for name in names]
    checked = [_check(path, file_key, real_directory) for path, file_key in entries]
    total = sum(found[1] for found in checked if isinstance(found, tuple))
    if total > MAX_DIRECTORY_BYTES:
        return Listing((), (_too_big(where, total),))

    files = tuple(
        _read(path, file_key, found[0]) if isinstance(found, tuple) else found
        for (path, file_key), found in zip(entries, checked, strict=True)
    )
    # Files may have grown between the check and the read; each read is capped.
    total = sum(len(file.text) for file in files if file.text is not None)
    if total > MAX_DIRECTORY_BYTES:
        return Listing((), (_too_big(where, total),))
    return Listing(files, ())


def read_file(path: Path, key: str) -> RawFile:
    """One file named explicitly (as `syncd validate FILE` does): any name, no containment."""
    found = _check(path, key, None)
    return _read(path, key, found[0]) if isinstance(found, tuple) else found


def _check(path: Path, key: str, within: Path | None) -> tuple[Path, int] | RawFile:
    """(real path, size) of a file fit to read, or the refusal."""

    def refused(message: str) -> RawFile:
        return RawFile(key, path, None, None, (Problem(str(path), None, None, message),))

    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        if path.is_symlink():
            return refused("broken symlink: its target does not exist")
        return refused("no such file or directory")
    except (OSError, RuntimeError) as error:
        return refused(f"cannot be resolved: {_why(error)}")
    if within is not None and not real.is_relative_to(within):
        return refused("symlink points outside the destinations directory; refused")
    try:
        status = real.stat()
    except OSError as error:
        return refused(f"cannot be read: {_why(error)}")
    if not stat.S_ISREG(status.st_mode):
        return refused(f"not a regular file ({_kind(status.st_mode)}); refused")
    if status.st_size > MAX_FILE_BYTES:
        return refused(_size_message(status.st_size))
    return real, status.st_size


def _read(path: Path, key: str, real: Path) -> RawFile:
    def refused(message: str) -> RawFile:
        return RawFile(key, path, None, None, (Problem(str(path), None, None, message),))

    try:
        descriptor = os.open(real, _OPEN_FLAGS)
    except OSError as error:
        return refused(f"cannot be read: {_why(error)}")
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            return refused(f"not a regular file ({_kind(status.st_mode)}); refused")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(descriptor, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        return refused(f"cannot be read: {_why(error)}")
    finally:
        os.close(descriptor)
    if size > MAX_FILE_BYTES:
        return refused(_size_message(size, at_least=True))
    text = b"".join(chunks)
    return RawFile(key, path, text, hashlib.sha256(text).hexdigest(), ())


def _size_message(size: int, *, at_least: bool = False) -> str:
    limit = f"the limit of {_kib(MAX_FILE_BYTES)} a file; refused before parsing"
    return f"more than {limit}" if at_least else f"{_kib(size)}, more than {limit}"


def _too_big(where: str, total: int) -> Problem:
    message = (
        f"destination files total {_kib(total)}, more than the limit of "
        f"{_kib(MAX_DIRECTORY_BYTES)} a directory; nothing loaded"
    )
    return Problem(where, None, None, message)


def _kib(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size / 1024:.1f} KiB"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _why(error: BaseException) -> str:
    """The reason only: an OSError's str() would repeat the path, a target included."""
    if isinstance(error, OSError):
        if error.errno == errno.ELOOP:
            return "symlink loop"
        return (error.strerror or type(error).__name__).lower()
    return "symlink loop" if "loop" in str(error).lower() else type(error).__name__
