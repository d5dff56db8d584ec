"""`syncd validate [PATH ...]`: check destination files, every problem in one go.

Each problem is printed on stdout as `file:line:col: message`, in a stable order
(files by name, problems by position), then a summary on stderr. The exit status
is 0 only when every file is valid and there is at least one destination file.

Files are held to the allowlists of the SYNCD_* settings in the environment (which
SendGrid URLs, secrets and source files they may name): run it with the settings
the daemon runs with, or CI accepts what the daemon refuses.

With `--online`, every valid destination then meets SendGrid as a run's preflight
does, writing nothing and reading no source: the key's scopes, the list, the mapped
custom fields and their types. Each problem is printed as `file: name: message`, each
destination that passed as `file: name: online: ...`; the exit status is 1 when any
destination has a problem.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from syncd.cli.common import add_common, settings_from
from syncd.loading import LoadedDestination, load_paths
from syncd.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="destination files or directories (default: the destinations directory)",
    )
    parser.add_argument(
        "--online",
        action="store_true",
        help="then check each valid destination against SendGrid as a run would, writing "
        "nothing: the key's scopes, the list, the custom fields and their types",
    )
    add_common(parser, state=False)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    paths: list[Path] = list(args.paths) or [settings.destinations]
    directories = {path if path.is_dir() else path.parent for path in paths}
    if len(directories) == 1 and args.destinations is None:
        # The directory named (or holding the files named) is to these files what
        # SYNCD_DESTINATIONS is to the daemon's: the default SYNCD_SOURCE_DIRS follows it.
        settings = settings.model_copy(update={"destinations": directories.pop()})
    catalog = load_paths(paths, settings.allowlists())
    for problem in catalog.problems:
        print(problem)
    if not catalog.files and catalog.complete:
        shown = " ".join(str(path) for path in paths)
        print(f"{shown}: no destination files (*.yaml or *.yml) found")
    valid = sum(1 for result in catalog.files.values() if result.valid)
    invalid = len(catalog.files) - valid
    noun = "file" if valid == 1 else "files"
    summary = f"{valid} {noun} valid, {invalid} invalid"
    offline_ok = bool(catalog.files) and not catalog.problems
    if not args.online:
        print(summary, file=sys.stderr)
        return 0 if offline_ok else 1
    failed = _online(list(catalog.destinations.values()), settings)
    passed = len(catalog.destinations) - failed
    print(f"{summary}; online: {passed} passed, {failed} with problems", file=sys.stderr)
    return 0 if offline_ok and not failed else 1


def _online(destinations: list[LoadedDestination], settings: Settings) -> int:
    """Prints what the online checks found; returns how many destinations have problems."""
    from syncd.reconciling.online import check_online  # offline runs need none of it

    checks = asyncio.run(check_online(destinations, settings))
    for check in checks:
        where = f"{check.destination.path}: {check.destination.name}"
        for problem in check.problems:
            print(f"{where}: {problem}")
        if not check.problems:
            print(f"{where}: online: {check.passed}")
    return sum(1 for check in checks if check.problems)
