"""`syncd schema`: the JSON Schema of a destination file, for editors and CI.

The same text is committed as docs/destination.schema.json (a test keeps them equal).
"""

from __future__ import annotations

import argparse
import json

from syncd.cli.common import BAD_USAGE_OR_SETTINGS
from syncd.destinations import json_schema

EXIT_CODES = {0: "the schema was printed", 2: BAD_USAGE_OR_SETTINGS}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options: the schema is a property of this syncd version."""


def render() -> str:
    """The schema as printed: indented JSON, ASCII only, ending with a newline."""
    return json.dumps(json_schema(), indent=2) + "\n"


def run(args: argparse.Namespace) -> int:
    print(render(), end="")
    return 0
