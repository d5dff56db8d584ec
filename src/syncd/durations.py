"""Durations as people write them in destination files: `90s`, `15m`, `1h30m`, `1d`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


MAX_DURATION = timedelta(days=366)


def parse_duration(value: Any) -> timedelta:
    """`90s`, `15m`, `1h30m`, `1d` (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value <= MAX_DURATION.total_seconds():  # also refuses NaN
            raise ValueError("expected a duration between 0s and 366d")
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match and any(match.groups()):
            days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
            total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
            if total > MAX_DURATION.total_seconds():
                raise ValueError("expected a duration between 0s and 366d")
            return timedelta(seconds=total)
    raise ValueError("expected a duration such as 90s, 15m, 1h30m or 1d")


def duration_text(value: timedelta) -> str:
    """A duration as a destination file would write it (`1h30m`, `0s`)."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(duration_text, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$"},
                {"type": "number", "minimum": 0},
            ],
            "description": "A duration: 90s, 15m, 1h30m, 1d, or a number of seconds.",
        }
    ),
]
