"""Command line entry point: `syncd COMMAND` (validate, plan, explain, sync, status, ...).

Each command lives in its own module exposing `add_arguments(parser)`, `run(args) -> int`
and `EXIT_CODES` (every status it can end with, and what each means: shown in its
`--help` and in docs/commands.md); this module only dispatches, with everything printed
scrubbed (`cli.output`). A command line or settings the process cannot start with end in
one line per problem, naming the option or setting, and exit status 2 (1 for `plan` and
`audit`, whose 2 means "changes" or "drift": `CANNOT_START`): never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import signal
import sys
from collections.abc import Sequence
from types import ModuleType

from pydantic import ValidationError

from syncd import __version__
from syncd.cli.common import UsageError, describe_exit_codes, error_json
from syncd.cli.output import scrubbed_output
from syncd.errors import SyncdError
from syncd.logs import configure as configure_logs
from syncd.logs import register_secret
from syncd.settings import InvalidSettings, Settings

COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("syncd.cli.validating", "check destination files; exit 1 on any error"),
    "schema": ("syncd.cli.schema", "print the JSON Schema of a destination file"),
    "plan": ("syncd.cli.planning", "show what a sync would do, without writing to SendGrid"),
    "explain": ("syncd.cli.explaining", "tell why one address is (not) on a list"),
    "sync": ("syncd.cli.syncing", "export one destination now"),
    "audit": ("syncd.cli.auditing", "compare the real list with the segment; --heal, --prune"),
    "status": ("syncd.cli.status", "show where each destination stands"),
    "history": ("syncd.cli.history", "show a destination's last runs"),
    "forget": ("syncd.cli.forgetting", "erase an address from the ledger (and SendGrid); --undo"),
    "run": ("syncd.cli.running", "run the daemon: watch, schedule, serve"),
    "probe": ("syncd.cli.probing", "check what SendGrid does not document on a real account"),
    "emulator": ("syncd.emulator.command", "serve the local SendGrid emulator"),
    "completion": ("syncd.cli.completion", "print a shell completion script (bash or zsh)"),
}


CANNOT_START: dict[str, int] = {"plan": 1, "audit": 1}
"""The exit status for a command line or settings a command cannot start with, where it is
not 2 (a command whose 2 means something else)."""


def cannot_start(name: str) -> int:
    return CANNOT_START.get(name, 2)


def _command(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name][0])


def exit_codes(name: str) -> dict[int, str]:
    """Every exit status of a command and what it means."""
    codes: dict[int, str] = _command(name).EXIT_CODES
    return codes


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncd",
        description="Keeps SendGrid Marketing contact lists equal to segments declared in YAML.",
    )
    parser.add_argument("--version", action="version", version=f"syncd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, summary) in COMMANDS.items():
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        # Importing every command costs start-up time; only the chosen one is imported.
        if name in argv:
            _command(name).add_arguments(sub)
            codes = describe_exit_codes(exit_codes(name))
            sub.epilog = f"{sub.epilog}\n\n{codes}" if sub.epilog else codes
    return parser


def exit_codes_table() -> str:
    """Every command's exit statuses as a Markdown table (docs/commands.md has it; a test
    keeps the two equal)."""
    rows = ["| command | status | meaning |", "| --- | ---: | --- |"]
    for name in COMMANDS:
        rows += [
            f"| `syncd {name}` | {code} | {meaning} |"
            for code, meaning in sorted(exit_codes(name).items())
        ]
    return "\n".join(rows)


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command a command line names (argparse takes the first positional)."""
    return next((arg for arg in argv if arg in COMMANDS), None)


def _stop_before_starting(signum: int, frame: object) -> None:
    """SIGTERM before the daemon took over signals: nothing has started, so stop now."""
    del signum, frame
    raise SystemExit(0)


def entry() -> int:
    """The `syncd` program (the console script, `python -m syncd`): `main` in a process of
    its own, whose start-up heap can be frozen (`_run`)."""
    try:
        code = main(own_process=True)
        sys.stdout.flush()  # here, not at exit: a closed pipe is then caught below
        return code
    except BrokenPipeError:
        # The reader went away (`syncd status --output json | head`): nothing more can be
        # said to it. Python would print a traceback when flushing stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a program a pipe ended


def main(argv: Sequence[str] | None = None, *, own_process: bool = False) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["run"]:
        # As PID 1 (a container) a signal without a handler is dropped: a SIGTERM during the
        # second or so of imports and start-up would leave the pod running until SIGKILL.
        # The daemon installs its own graceful handling as soon as it can listen.
        signal.signal(signal.SIGTERM, _stop_before_starting)
    parser = build_parser(args_list)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as stop:  # argparse has printed the usage error (or the help: 0)
        command = chosen_command(args_list)
        if stop.code == 2 and command is not None:
            return cannot_start(command)
        raise
    if args.command in ("emulator", "completion"):  # need no settings; plain output
        alone: int = _command(args.command).run(args)
        return alone
    with scrubbed_output():
        return _run(args, own_process=own_process)


def _run(args: argparse.Namespace, *, own_process: bool = False) -> int:
    refused = cannot_start(args.command)
    try:
        settings = Settings()
        _register_secrets(settings)
        configure_logs(settings.log_format, settings.log_level)
        if own_process:
            # Everything imported and configured so far lives as long as the process: kept
            # out of the cyclic collector's full passes, which otherwise scan it again and
            # again while a run builds contacts (12 % of a first export's CPU, measured).
            # Not in a caller's process (tests call `main`): its heap is not ours to freeze.
            gc.freeze()
        result: int = _command(args.command).run(args)
    except ValidationError as invalid:  # SYNCD_* settings
        for error in invalid.errors(include_input=False, include_url=False):
            where = "SYNCD_" + "_".join(str(part) for part in error["loc"]).upper()
            print(f"syncd: {where}: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return refused
    except (InvalidSettings, UsageError) as error:
        print(f"syncd {args.command}: {error.message}", file=sys.stderr)
        return refused
    except SyncdError as error:
        print(f"syncd {args.command}: {error.message}", file=sys.stderr)
        if getattr(args, "output", "text") == "json":
            print(error_json(error))
        return 1
    return result


def _register_secrets(settings: Settings) -> None:
    """The settings' own secrets, masked before anything can print them."""
    if settings.admin_token is not None:
        register_secret(settings.admin_token.get_secret_value())
    if settings.ledger_file is None:  # a PostgreSQL ledger's URL, with its password
        register_secret(settings.state)
