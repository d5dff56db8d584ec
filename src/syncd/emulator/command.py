"""`syncd emulator`: the command line (syncd's CLI calls `add_arguments` and `run`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import typing
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from syncd.emulator import rules
from syncd.emulator.app import Emulator, serve
from syncd.emulator.config import EmulatorConfig
from syncd.emulator.profiles import Profile
from syncd.emulator.seeding import (
    parse_api_key_flag,
    parse_field_flag,
    parse_knob_flag,
    parse_list_flag,
    parse_rate_flag,
    read_seed_file,
)

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
        help="lists, fields, keys, faults... to start with",
    )
    add("--list", action="append", default=[], metavar="[ID=]NAME", help="a list (repeatable)")
    add(
        "--field",
        action="append",
        default=[],
        metavar="NAME:Text|Number|Date",
        help="a custom field (repeatable)",
    )
    add(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY[=SCOPE,...]",
        help="an accepted key, all scopes unless listed (repeatable); none: any key is accepted",
    )
    add(
        "--job-delay",
        type=float,
        metavar="SECONDS",
        help="time before a job is processed (default 0)",
    )
    add(
        "--export-delay",
        type=float,
        metavar="SECONDS",
        help="time before an export is ready (default 0)",
    )
    add(
        "--rate-limit",
        metavar="N/WINDOW",
        help="requests per window seconds per key and endpoint (default 600/60)",
    )
    add(
        "--endpoint-rate-limit",
        action="append",
        default=[],
        metavar="'TEMPLATE=N/WINDOW'",
        help="e.g. 'PUT /v3/marketing/contacts=3/2' (repeatable)",
    )
    add(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help='a fault rule, e.g. \'{"kind":"status","status":503,"times":2}\' (repeatable)',
    )
    add(
        "--public-url",
        metavar="URL",
        help="base of absolute links (default: the origin of each request)",
    )
    add(
        "--profile",
        choices=typing.get_args(Profile),
        help="defaults of the behaviour knobs: kind (forgiving) or strict (as SendGrid)",
    )
    add(
        "--knob",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set one behaviour knob, e.g. search_lag=30 or contact_limit=null (repeatable)",
    )
    add("--random-seed", type=int, metavar="N", help="makes probabilistic faults repeatable")
    add("--quiet", action="store_true", help="do not log each request")


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """The seed file first, then the flags on top of it."""
    data: dict[str, Any] = read_seed_file(args.seed) if args.seed else {}
    data["lists"] = [*data.get("lists", []), *(parse_list_flag(t) for t in args.list)]
    data["custom_fields"] = [
        *data.get("custom_fields", []),
        *(parse_field_flag(t) for t in args.field),
    ]
    keys = dict(parse_api_key_flag(t, rules.ALL_SCOPES) for t in args.api_key)
    data["api_keys"] = {**data.get("api_keys", {}), **keys}
    data["faults"] = [*data.get("faults", []), *(_json_fault(text) for text in args.fault)]
    for name in ("job_delay", "export_delay", "public_url", "random_seed"):
        if getattr(args, name) is not None:
            data[name] = getattr(args, name)
    if args.profile is not None:
        data["profile"] = args.profile
    data.update(parse_knob_flag(text) for text in args.knob)
    if args.rate_limit:
        data["rate_limit"] = parse_rate_flag(args.rate_limit)
    for text in args.endpoint_rate_limit:
        template, sep, budget = text.rpartition("=")
        if not sep:
            raise ValueError(f"expected 'TEMPLATE=N/WINDOW', got {text!r}")
        data.setdefault("endpoint_rate_limits", {})[template] = parse_rate_flag(budget)
    return EmulatorConfig.model_validate(data)


def run(args: argparse.Namespace) -> int:
    """Serves until SIGINT or SIGTERM; 0 then, 2 for bad arguments, 1 if it cannot bind."""
    try:
        config = config_from_args(args)
    except (ValueError, ValidationError, OSError) as problem:
        sys.stderr.write(f"syncd emulator: {problem}\n")
        return 2
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        asyncio.run(_serve(config, args.host, args.port))
    except OSError as problem:
        sys.stderr.write(f"syncd emulator: cannot serve on {args.host}:{args.port}: {problem}\n")
        return 1
    return 0


def _json_fault(text: str) -> dict[str, Any]:
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError as problem:
        raise ValueError(f"--fault is not JSON: {problem}") from None
    if not isinstance(parsed, dict):
        raise ValueError("--fault must be a JSON object")
    return parsed


async def _serve(config: EmulatorConfig, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        await serve(config, host, port, stop=stop, on_ready=_announce)
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)


def _announce(emulator: Emulator) -> None:
    sys.stdout.write(f"syncd emulator listening on {emulator.url}\n")
    sys.stdout.flush()
