"""`python -m syncd.emulator`: the same as `syncd emulator`."""

from __future__ import annotations

import argparse

from syncd.emulator.command import add_arguments, run

parser = argparse.ArgumentParser(prog="python -m syncd.emulator")
add_arguments(parser)
raise SystemExit(run(parser.parse_args()))
