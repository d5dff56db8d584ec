"""`syncd validate [PATH ...]`: check destination files, every problem in one go.

Each problem is printed on stdout as `file:line:col: message`, in a stable order
(files by name, problems by position), then a summary on stderr. `--output json` prints
the validation document instead (`syncd schema --validation`), `--output markdown` a
pull-request comment. The exit status is 0 only when every file is valid and there is at
least one destination file.

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
import json
import sys
from pathlib import Path

from syncd.cli.common import BAD_USAGE_OR_SETTINGS, add_common, add_output, settings_from
from syncd.cli.markdown import code, table
from syncd.loading import Catalog, LoadedDestination, load_paths
from syncd.settings import Settings
from syncd.shapes import FileValidation, OnlineCheck, Problem, ValidationDocument

NO_FILES = "no destination files (*.yaml or *.yml) found"

EXIT_CODES = {
    0: "every file is valid (and there is at least one; with --online, every destination "
    "passed SendGrid's checks)",
    1: "a file has a problem, no destination file was found, or (--online) a destination "
    "failed SendGrid's checks",
    2: BAD_USAGE_OR_SETTINGS,
}


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
    add_output(parser, "text", "json", "markdown")
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
    document = validation_document(catalog, paths)
    if args.online:
        document = with_online(document, catalog, settings)
    if args.output == "json":
        print(json.dumps(document.wire(), indent=2, ensure_ascii=False))
    elif args.output == "markdown":
        print(validation_markdown(document))
    else:
        for problem in catalog.problems:
            print(problem)
        if not catalog.files and catalog.complete:
            shown = " ".join(str(path) for path in paths)
            print(f"{shown}: {NO_FILES}")
        for line in online_text(document.online or []):
            print(line)
    valid = sum(1 for result in catalog.files.values() if result.valid)
    noun = "file" if valid == 1 else "files"
    summary = f"{valid} {noun} valid, {len(catalog.files) - valid} invalid"
    if document.online is not None:
        passed = sum(1 for check in document.online if check.passed)
        summary += f"; online: {passed} passed, {len(document.online) - passed} with problems"
    print(summary, file=sys.stderr)
    return 0 if document.valid else 1


def validation_document(catalog: Catalog, paths: list[Path]) -> ValidationDocument:
    files = [
        FileValidation(
            file=str(result.path),
            name=result.destination.name if result.destination else None,
            valid=result.valid,
            problems=[p.shape() for p in result.problems],
        )
        for _, result in sorted(catalog.files.items())
    ]
    problems = [p.shape() for p in catalog.directory_problems]
    if not catalog.files and catalog.complete:
        shown = " ".join(str(path) for path in paths)
        problems.append(Problem(file=shown, message=NO_FILES))
    return ValidationDocument(
        valid=bool(catalog.files) and not catalog.problems, files=files, problems=problems
    )


def with_online(
    document: ValidationDocument, catalog: Catalog, settings: Settings
) -> ValidationDocument:
    """The document with every valid destination's online checks, `valid` only if all pass."""
    checks = _online(list(catalog.destinations.values()), settings)
    return document.model_copy(
        update={"online": checks, "valid": document.valid and all(c.passed for c in checks)}
    )


def _online(destinations: list[LoadedDestination], settings: Settings) -> list[OnlineCheck]:
    from syncd.reconciling.online import check_online  # offline runs need none of it

    return [
        OnlineCheck(
            name=check.destination.name,
            file=str(check.destination.path),
            passed=not check.problems,
            summary=check.passed,
            problems=list(check.problems),
        )
        for check in asyncio.run(check_online(destinations, settings))
    ]


def online_text(checks: list[OnlineCheck]) -> list[str]:
    lines = []
    for check in checks:
        where = f"{check.file}: {check.name}"
        lines += [f"{where}: {problem}" for problem in check.problems]
        if check.passed:
            lines.append(f"{where}: online: {check.summary}")
    return lines


def validation_markdown(document: ValidationDocument) -> str:
    valid = sum(1 for f in document.files if f.valid)
    mark = "✅" if document.valid else "❌"
    parts = [
        "## syncd validate",
        f"{mark} {valid} valid, {len(document.files) - valid} invalid",
    ]
    if document.files:
        rows = [
            [code(f.file), f"✅ {code(f.name or '')}" if f.valid else f"❌ {len(f.problems)}"]
            for f in document.files
        ]
        parts.append(table(["file", "destination or problems"], rows))
    for f in document.files:
        if f.problems:
            lines = [
                f"- line {p.line}, column {p.column}: {code(p.message)}"
                if p.line is not None
                else f"- {code(p.message)}"
                for p in f.problems
            ]
            parts.append(f"**{code(f.file)}**\n\n" + "\n".join(lines))
    if document.problems:
        parts.append("\n".join(f"- {code(p.file)}: {code(p.message)}" for p in document.problems))
    for check in document.online or []:
        status = "✅ online" if check.passed else "❌ online"
        details = [f"- {code(problem)}" for problem in check.problems]
        parts.append("\n".join([f"**{code(check.name)}** {status}", *details]))
    return "\n\n".join(parts) + "\n"
