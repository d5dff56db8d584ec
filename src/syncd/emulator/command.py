"""`syncd emulator`: the command line (syncd's CLI calls `add_arguments` and `run`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from syncd.emulator.app import Emulator
from syncd.emulator.config import EmulatorConfig
from syncd.emulator.seeding import read_seed_file

DEFAULT_PORT = 3030
EXIT_CODES = {
    0: "stopped by SIGINT or SIGTERM",
    1: "cannot listen on the address",
    2: "bad arguments or seed file (one line saying which, on stderr)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Serve a local, stateful SendGrid Marketing Campaigns API emulator."
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    add("--port", type=int, default=DEFAULT_PORT, help="port to bind (default: %(default)s)")
    add(
        "--seed",
        type=Path,
        metavar="FILE.yaml",
        help="what the emulator starts with: lists, fields, contacts, keys, knobs, faults...",
    )
    add(
        "--job-delay",
        type=float,
        metavar="SECONDS",
        help="time before a job is processed; overrides the seed file's (default 0)",
    )
    add("--quiet", action="store_true", help="do not log each request")


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """The seed file, with `--job-delay` on top of it."""
    data: dict[str, Any] = read_seed_file(args.seed) if args.seed else {}
    if args.job_delay is not None:
        data["job_delay"] = args.job_delay
    return EmulatorConfig.model_validate(data)


def run(args: argparse.Namespace) -> int:
    """Serves until SIGINT or SIGTERM; 0 then, 2 for bad arguments, 1 if it cannot bind."""
    try:
        # Built before serving so that a seed the model takes but the account cannot (two
        # lists of one name) is a bad seed file too.
        emulator = Emulator(config_from_args(args))
    except ValidationError as invalid:
        where = args.seed or "the seed"
        sys.stderr.write(f"syncd emulator: {where}: {_one_line(invalid)}\n")
        return 2
    except (ValueError, OSError) as problem:
        sys.stderr.write(f"syncd emulator: {problem}\n")
        return 2
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        asyncio.run(_serve(emulator, args.host, args.port))
    except OSError as problem:
        sys.stderr.write(f"syncd emulator: cannot serve on {args.host}:{args.port}: {problem}\n")
        return 1
    return 0


def _one_line(invalid: ValidationError) -> str:
    """Each problem as `place: message`, joined on one line (no pydantic banner)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'seed'}: {e['msg']}"
        for e in invalid.errors(include_input=False, include_url=False)
    )


async def _serve(emulator: Emulator, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        await emulator.start(host, port)
        _announce(emulator)
        await stop.wait()
    finally:
        await emulator.stop()
        for signum in signals:
            loop.remove_signal_handler(signum)


def _announce(emulator: Emulator) -> None:
    sys.stdout.write(f"syncd emulator listening on {emulator.url}\n")
    sys.stdout.flush()
