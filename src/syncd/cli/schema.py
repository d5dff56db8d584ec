"""`syncd schema [--plan | --status | ...]`: JSON Schemas, for editors, CI and API clients.

Without an option, the schema of a destination file (committed as
docs/destination.schema.json); with `--NAME`, that of a JSON document syncd prints and
answers (`syncd.shapes.DOCUMENTS`: committed as docs/schemas/NAME.schema.json). Tests
keep the committed copies equal to what this prints.
"""

from __future__ import annotations

import argparse
import json

from syncd import shapes
from syncd.cli.common import BAD_USAGE_OR_SETTINGS
from syncd.destinations import json_schema

EXIT_CODES = {0: "the schema was printed", 2: BAD_USAGE_OR_SETTINGS}
DESTINATION = "destination"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--destination",
        dest="document",
        action="store_const",
        const=DESTINATION,
        help="a destination file (the default)",
    )
    for name, model in shapes.DOCUMENTS.items():
        which.add_argument(
            f"--{name}",
            dest="document",
            action="store_const",
            const=name,
            help=f"the {name} document ({model.__name__})",
        )
    parser.set_defaults(document=DESTINATION)


def render(document: str = DESTINATION) -> str:
    """The schema as printed: indented JSON, ASCII only, ending with a newline."""
    schema = json_schema() if document == DESTINATION else shapes.json_schema(document)
    return json.dumps(schema, indent=2) + "\n"


def run(args: argparse.Namespace) -> int:
    print(render(args.document), end="")
    return 0
