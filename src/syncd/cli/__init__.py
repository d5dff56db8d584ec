"""Command line entry point: `syncd validate|schema|plan|sync|status|forget|run|probe|emulator`.

Each command lives in its own module exposing `add_arguments(parser)` and
`run(args) -> int`; this module only dispatches, with everything printed scrubbed
(`cli.output`). Settings the process cannot start with end in one line per problem,
naming the setting, and exit status 2 (1 for `plan`, whose 2 means "changes"): never
a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence
from types import ModuleType

from pydantic import ValidationError

from syncd import __version__
from syncd.cli.output import scrubbed_output
from syncd.errors import SyncdError
from syncd.logs import configure as configure_logs
from syncd.logs import register_secret
from syncd.settings import InvalidSettings, Settings

COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("syncd.cli.validating", "check destination files; exit 1 on any error"),
    "schema": ("syncd.cli.schema", "print the JSON Schema of a destination file"),
    "plan": ("syncd.cli.planning", "show what a sync would do, without writing to SendGrid"),
    "sync": ("syncd.cli.syncing", "export one destination now"),
    "status": ("syncd.cli.status", "show the last runs per destination"),
    "forget": ("syncd.cli.forgetting", "erase an address from the ledger (and SendGrid); --undo"),
    "run": ("syncd.cli.running", "run the daemon: watch, schedule, serve"),
    "probe": ("syncd.cli.probing", "check what SendGrid does not document on a real account"),
    "emulator": ("syncd.emulator.command", "serve the local SendGrid emulator"),
}


def _command(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name][0])


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncd",
        description="Keeps SendGrid Marketing contact lists equal to segments declared in YAML.",
    )
    parser.add_argument("--version", action="version", version=f"syncd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, summary) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        # Importing every command costs start-up time; only the chosen one is imported.
        if name in argv:
            _command(name).add_arguments(sub)
    return parser


def _stop_before_starting(signum: int, frame: object) -> None:
    """SIGTERM before the daemon took over signals: nothing has started, so stop now."""
    del signum, frame
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["run"]:
        # As PID 1 (a container) a signal without a handler is dropped: a SIGTERM during the
        # second or so of imports and start-up would leave the pod running until SIGKILL.
        # The daemon installs its own graceful handling as soon as it can listen.
        signal.signal(signal.SIGTERM, _stop_before_starting)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    if args.command == "emulator":  # a tool of its own: its own, plain logging and output
        emulated: int = _command(args.command).run(args)
        return emulated
    with scrubbed_output():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    cannot_start = 1 if args.command == "plan" else 2
    try:
        settings = Settings()
        _register_secrets(settings)
        configure_logs(settings.log_format, settings.log_level)
        result: int = _command(args.command).run(args)
    except ValidationError as invalid:  # SYNCD_* settings
        for error in invalid.errors(include_input=False, include_url=False):
            where = "SYNCD_" + "_".join(str(part) for part in error["loc"]).upper()
            print(f"syncd: {where}: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return cannot_start
    except InvalidSettings as error:
        print(f"syncd {args.command}: {error.message}", file=sys.stderr)
        return cannot_start
    except SyncdError as error:
        print(f"syncd {args.command}: {error.message}", file=sys.stderr)
        return 1
    return result


def _register_secrets(settings: Settings) -> None:
    """The settings' own secrets, masked before anything can print them."""
    if settings.admin_token is not None:
        register_secret(settings.admin_token.get_secret_value())
    if "://" in settings.state:  # a PostgreSQL ledger's DSN, with its password
        register_secret(settings.state)
