"""The settings table of docs/operations.md, generated from the settings model.

`python -m syncd.cli.settings_table --write docs/operations.md` (`make docs`) rewrites
the table between its two markers; a test fails when the docs and the model differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from syncd.settings import Settings

BEGIN = "<!-- settings table: generated from src/syncd/settings.py by `make docs` -->"
END = "<!-- end of settings table -->"


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, tuple):
        return "`" + ",".join(str(v) for v in value) + "`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def table() -> str:
    lines = ["| setting | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if "shown_default" in extra:
            default = str(extra["shown_default"])
        elif field.default is PydanticUndefined:
            default = "required"
        else:
            default = _shown(field.default)
        meaning = (field.description or "").replace("|", "\\|")
        lines.append(f"| `SYNCD_{name.upper()}` | {default} | {meaning} |")
    return "\n".join(lines)


def rewritten(document: str) -> str:
    """`document` with the text between the markers replaced by the current table."""
    head, begin, rest = document.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"the markers are missing: {BEGIN} ... {END}")
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, metavar="FILE", help="rewrite FILE's table")
    args = parser.parse_args(argv)
    if args.write is None:
        print(table())
        return 0
    args.write.write_text(rewritten(args.write.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
