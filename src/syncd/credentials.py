"""Secrets by reference: `{env: NAME}` or `{file: PATH}`, read at run time.

Read on every run (and again after a 401), so a rotated Kubernetes Secret is
picked up without a restart. Every value read is registered with the log
scrubber before anyone can print it.

The reference is held to the operator's allowlists again before anything is read
(loading checked it already; a symlink may have changed since). A file is opened
by its checked real path, without following a symlink swapped in since,
non-blocking, and must be a regular file of at most 64 KiB: a FIFO, a socket or a
device is refused at once, never waited on. `fetch_secret` reads in a worker
thread, within a time limit, so a slow filesystem cannot hold the event loop.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

from syncd.allowlists import Allowlists, NotAllowed
from syncd.destinations import SecretRef
from syncd.errors import PermanentError
from syncd.logs import register_secret

MAX_SECRET_BYTES = 64 * 1024
READ_TIMEOUT = 10.0
"""Seconds a secret may take to read (a regular file of 64 KiB at most: any disk does it)."""

_OPEN_FLAGS = (
    os.O_RDONLY
    | os.O_NONBLOCK  # a FIFO must not block the open
    | getattr(os, "O_NOFOLLOW", 0)  # the real path was checked: no symlink swapped in since
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class SecretMissing(PermanentError):
    """The referenced secret is not there; the message says where syncd looked."""


class SecretNotAllowed(PermanentError):
    """The reference names what the operator's allowlists do not allow; nothing was read."""


def read_secret(ref: SecretRef, *, base_dir: Path, what: str, allowlists: Allowlists) -> str:
    """The secret's value, stripped; relative paths are relative to `base_dir`."""
    if ref.env is not None:
        try:
            allowlists.check_secret_env(ref.env)
        except NotAllowed as refused:
            raise SecretNotAllowed(f"{what}: environment variable {ref.env} {refused}") from None
        value = os.environ.get(ref.env, "").strip()
        if not value:
            raise SecretMissing(
                f"{what}: environment variable {ref.env} is not set or empty; set it, "
                "or point the reference at a file"
            )
    else:
        assert ref.file is not None
        try:
            real = allowlists.secret_file(ref.file, base_dir)
        except NotAllowed as refused:
            raise SecretNotAllowed(f"{what}: secret file {ref.file} {refused}") from None
        value = _read_file(real, what).decode("utf-8", errors="replace").strip()
        if not value:
            raise SecretMissing(f"{what}: secret file {real} is empty")
    register_secret(value)
    return value


async def fetch_secret(ref: SecretRef, *, base_dir: Path, what: str, allowlists: Allowlists) -> str:
    """`read_secret` off the event loop, within READ_TIMEOUT seconds."""
    try:
        async with asyncio.timeout(READ_TIMEOUT):
            return await asyncio.to_thread(
                read_secret, ref, base_dir=base_dir, what=what, allowlists=allowlists
            )
    except TimeoutError:
        raise SecretMissing(
            f"{what}: the secret took more than {READ_TIMEOUT:g}s to read; is its file on a "
            "responsive filesystem?"
        ) from None


def _read_file(real: Path, what: str) -> bytes:
    try:
        descriptor = os.open(real, _OPEN_FLAGS)
    except OSError as error:
        raise SecretMissing(
            f"{what}: cannot read secret file {real}: {error.strerror or 'unreadable'}"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise SecretMissing(
                f"{what}: secret file {real} is not a regular file (a FIFO, socket or "
                "device?); refused"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_SECRET_BYTES:
            chunk = os.read(descriptor, MAX_SECRET_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise SecretMissing(
            f"{what}: cannot read secret file {real}: {error.strerror or 'unreadable'}"
        ) from None
    finally:
        os.close(descriptor)
    if size > MAX_SECRET_BYTES:
        raise SecretMissing(f"{what}: secret file {real} is larger than 64 KiB")
    return b"".join(chunks)
