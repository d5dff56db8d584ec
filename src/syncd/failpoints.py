"""Named failpoints in the reconcile path, for the crash tests.

Enabled only by `SYNCD_FAILPOINTS`, e.g. `after-outbox-commit=exit` or
`while-polling=raise,before-ack-commit=exit@2` (the optional `@N` fires on the
N-th hit). When the variable is unset, `hit()` is one dictionary lookup.
"""

from __future__ import annotations

import os
import sys

EXIT_CODE = 86


class FailpointError(RuntimeError):
    """Raised by a failpoint configured with `raise`."""


def _parse(spec: str) -> dict[str, tuple[str, int]]:
    parsed: dict[str, tuple[str, int]] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, action = item.partition("=")
        action, _, nth = action.partition("@")
        parsed[name.strip()] = (action.strip() or "exit", int(nth) if nth else 1)
    return parsed


_ARMED = _parse(os.environ.get("SYNCD_FAILPOINTS", ""))
_HITS: dict[str, int] = {}


def hit(name: str) -> None:
    if name not in _ARMED:
        return
    action, nth = _ARMED[name]
    _HITS[name] = _HITS.get(name, 0) + 1
    if _HITS[name] != nth:
        return
    if action == "raise":
        raise FailpointError(f"failpoint {name}")
    sys.stderr.write(f"failpoint {name}: exiting\n")
    sys.stderr.flush()
    os._exit(EXIT_CODE)
