"""Whether a source file opened is the one whose path was checked.

A source's path is checked against the allowlists (`Allowlists.source_file`: its real
path, inside SYNCD_SOURCE_DIRS, not the ledger) and opened a moment later. Whoever may
write in a source directory could swap a symlink in between, and the open would follow it
out. So what was opened is asked of the kernel afterwards: on Linux `/proc/self/fd` names
the file behind a descriptor, whatever path led to it. Elsewhere the check cannot be made
and the path checked is trusted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from syncd.logs import get_logger

log = get_logger(__name__)
_DESCRIPTORS = Path("/proc/self/fd")
_OPENING = threading.Lock()
OPENING_WAIT = 30.0
"""Seconds an open or a close waits for another source's open to be checked. Past it, it
goes on: a hung open (a FIFO swapped in) must not stop every other SQLite source."""


def opened_as(descriptor: int, expected: Path) -> bool:
    """Whether `descriptor` is the file at `expected` (a real path: no link in it)."""
    try:
        return (_DESCRIPTORS / str(descriptor)).readlink() == expected
    except FileNotFoundError:
        return not _DESCRIPTORS.is_dir()  # no /proc: nothing to ask


def descriptors() -> dict[str, Path] | None:
    """The files behind this process's descriptors now (number → path); None without
    `/proc`."""
    try:
        entries = list(_DESCRIPTORS.iterdir())
    except FileNotFoundError:
        return None
    found: dict[str, Path] = {}
    for entry in entries:
        try:
            found[entry.name] = entry.readlink()
        except OSError:  # closed meanwhile, or not a link
            continue
    return found


@contextmanager
def one_at_a_time() -> Iterator[None]:
    """Held around a library's open and its check (`newly_opened_as`), and around the close
    of what it opened. Two reads of one database in two threads: one closing while the
    other opens would hand SQLite the number just freed, and the check, seeing no new
    descriptor on the path, would call the open a swap."""
    got = _OPENING.acquire(timeout=OPENING_WAIT)
    if not got:
        log.warning("source.open_waited", seconds=OPENING_WAIT, why="another open still hangs")
    try:
        yield
    finally:
        if got:
            _OPENING.release()


def newly_opened_as(before: dict[str, Path] | None, expected: Path) -> bool:
    """Whether what a library opened since `before` (`descriptors()`), right after it did,
    is the file at `expected` (SQLite opens its files itself).

    A new descriptor on `expected` says so. A descriptor another read holds on the file
    proves nothing about what the library opened, so only new ones count, with one
    exception: SQLite keeps a closing connection's descriptor while another connection of
    the process holds a lock on the file, and takes it back at the next open of that same
    file (it matches by device and inode, so the file is the one opened and checked
    before). Then nothing new appears: with no new descriptor at all and one on
    `expected`, the open took one back. A library that followed a swapped link instead
    opened a new descriptor on another path, which refuses it (so does any other
    descriptor a thread opened meanwhile: a refusal is only tried again later)."""
    if before is None:
        return True  # no /proc: nothing to ask
    now = descriptors() or {}
    changed = [path for number, path in now.items() if before.get(number) != path]
    if expected in changed:
        return True
    return not changed and expected in now.values()
