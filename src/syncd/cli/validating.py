"""`syncd validate [PATH ...]`: check destination files, every problem in one go.

Each problem is printed on stdout as `file:line:col: message`, in a stable order
(files by name, problems by position), then a summary on stderr. The exit status
is 0 only when every file is valid and there is at least one destination file.

Files are held to the allowlists of the SYNCD_* settings in the environment (which
SendGrid URLs, secrets and source files they may name): run it with the settings
the daemon runs with, or CI accepts what the daemon refuses.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from syncd.cli.common import add_common, settings_from
from syncd.loading import load_paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="destination files or directories (default: the destinations directory)",
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
    print(f"{valid} {noun} valid, {invalid} invalid", file=sys.stderr)
    return 0 if catalog.files and not catalog.problems else 1
