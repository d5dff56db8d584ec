"""A syncd command as a user runs it: `python -m syncd ...` in its own process."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping

from tests.guarantees.processes import Completed


async def syncd(*args: str, env: Mapping[str, str], within: float = 60) -> Completed:
    """One syncd command to its end."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        *args,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"syncd {' '.join(args)} did not end within {within}s") from None
    assert process.returncode is not None
    return Completed(tuple(args), process.returncode, out.decode(), err.decode(), 0.0)
