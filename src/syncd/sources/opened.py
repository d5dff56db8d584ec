"""Whether a source file opened is the one whose path was checked.

A source's path is checked against the allowlists (`Allowlists.source_file`: its real
path, inside SYNCD_SOURCE_DIRS, not the ledger) and opened a moment later. Whoever may
write in a source directory could swap a symlink in between, and the open would follow it
out. So what was opened is asked of the kernel afterwards: on Linux `/proc/self/fd` names
the file behind a descriptor, whatever path led to it. Elsewhere the check cannot be made
and the path checked is trusted.
"""

from __future__ import annotations

from pathlib import Path

_DESCRIPTORS = Path("/proc/self/fd")


def opened_as(descriptor: int, expected: Path) -> bool:
    """Whether `descriptor` is the file at `expected` (a real path: no link in it)."""
    try:
        return (_DESCRIPTORS / str(descriptor)).readlink() == expected
    except FileNotFoundError:
        return not _DESCRIPTORS.is_dir()  # no /proc: nothing to ask


def any_opened_as(expected: Path) -> bool:
    """Whether some descriptor of this process is the file at `expected`: for a file a
    library opens itself (SQLite), right after it did."""
    try:
        descriptors = list(_DESCRIPTORS.iterdir())
    except FileNotFoundError:
        return True  # no /proc: nothing to ask
    for descriptor in descriptors:
        try:
            if descriptor.readlink() == expected:
                return True
        except OSError:  # closed meanwhile, or not a link
            continue
    return False
