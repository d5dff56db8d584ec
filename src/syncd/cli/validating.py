"""`syncd validate [PATH ...]`: check destination files, every problem in one go.

Each problem is printed on stdout as `file:line:col: message`, in a stable order
(files by name, problems by position), then a summary on stderr. The exit status
is 0 only when every file is valid and there is at least one destination file.
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
    paths: list[Path] = list(args.paths) or [settings_from(args).destinations]
    catalog = load_paths(paths)
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
