"""A problem found in a destination file, and how keys and paths are shown in one.

Messages name the file, the line and column and the rule broken. They never carry
a value read from the file: a file linked to `/proc/self/environ` or holding an
inline API key must not have its content printed back. Only key names are shown
(a misspelt key is the whole point of the message), and the names, paths and URLs
an allowlist refused (which variable or path is the point of that message); both
escaped, length-capped and masked when they look like a SendGrid key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from syncd import shapes
from syncd.logs import one_line

_SENDGRID_KEY = re.compile(r"SG\.[\w-]+(?:\.[\w-]+)?")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_KEY_CHARS = 64
_MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file (or with the directory as a whole)."""

    file: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return one_line(f"{where}: {self.message}")

    def shape(self, file: str | None = None) -> shapes.Problem:
        """As the JSON shapes have it; `file` names the file otherwise (as its sender did)."""
        return shapes.Problem(
            file=self.file if file is None else file,
            line=self.line,
            column=self.column,
            message=self.message,
        )

    def sort_key(self) -> tuple[int, int]:
        """Problems without a position first (they concern the whole file), then by place."""
        return (self.line or 0, self.column or 0)


def mask_secrets(text: str) -> str:
    """Defence in depth: anything shaped like a SendGrid API key becomes `SG.***`."""
    return _SENDGRID_KEY.sub("SG.***", text)


def describe_key(key: object) -> str:
    """A key as shown in a message: `'listId'`, or escaped, capped and masked."""
    if not isinstance(key, str):
        return "a non-text key"
    if len(key) > _MAX_KEY_CHARS:
        return f"a key of {len(key)} characters"
    if _SENDGRID_KEY.search(key):
        return "a key shaped like an API key"
    if _PLAIN_KEY.match(key):
        return f"'{key}'"
    return json.dumps(key)


def describe_value(value: str) -> str:
    """A name or path from the file, shown because the message is about it (an environment
    variable, a secret's path, a URL): as written when plain, else escaped; capped; masked
    when it looks like a SendGrid key."""
    if len(value) > _MAX_VALUE_CHARS:
        return f"a value of {len(value)} characters"
    if _SENDGRID_KEY.search(value):
        return "a value shaped like an API key"
    if value.isprintable() and not any(c.isspace() for c in value):
        return value
    return json.dumps(value)


def format_path(path: Iterable[str | int]) -> str:
    """`("spec", "segments", 0, "source")` → `spec.segments[0].source`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{describe_key(part)}]"
    return text or "(document)"


def sorted_problems(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """One file's problems in reading order; ties keep the order they were found in."""
    return tuple(sorted(problems, key=Problem.sort_key))
