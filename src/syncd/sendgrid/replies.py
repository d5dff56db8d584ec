"""An answer from SendGrid as syncd reads it: within a size, decoded off the loop when
large, its error messages cut down to what is safe to repeat.

Answers are untrusted: one without an end would fill memory, one of many MB parsed on
the event loop would hold every destination's work, and an error message may echo a
secret or an address back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from syncd.errors import SendGridUnavailable
from syncd.logs import scrub

MAX_ANSWER_BYTES = 64 << 20
"""The most of one answer syncd reads (a job's errors file is the largest it expects, a few
MB): an answer is untrusted, and one without an end would otherwise fill memory."""
PARSED_ON_LOOP_BYTES = 1 << 20
"""A JSON answer larger than this is parsed in a thread: SendGrid's answers are a few
hundred KB at most, and one of many MB would hold every destination's work while parsed."""


@dataclass(frozen=True)
class Reply:
    status: int
    data: Any
    headers: CIMultiDictProxy[str]
    """Names are matched without regard to case: SendGrid spells `X-Ratelimit-Reset`."""
    raw: bytes
    wire_names: tuple[str, ...] = ()
    """Header names as they came on the wire (`headers` may respell those it knows)."""

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace")


EXCERPT_WINDOW = 4096
"""Characters of an answer scrubbed for its excerpt, of which the first 300 are kept."""


def excerpt(data: Any, text: str) -> str:
    """SendGrid's error messages, without anything that could be a secret or an address."""
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        messages = [str(e.get("message", "")) for e in data["errors"] if isinstance(e, dict)]
        text = "; ".join(m for m in messages if m)
    # Cut before scrubbing (a body may be megabytes), with room around the 300 characters
    # kept: a secret the first cut splits lies beyond what is shown.
    return scrub(text.strip()[:EXCERPT_WINDOW])[:300]


class AnswerTooLarge(SendGridUnavailable):
    """An answer longer than `MAX_ANSWER_BYTES`: not read (a temporary failure, except for
    an errors file, which then counts as gone)."""


async def read_reply(response: aiohttp.ClientResponse, endpoint: str) -> Reply:
    """The whole answer (at most `MAX_ANSWER_BYTES`), its JSON decoded when it says so."""
    raw = await read_at_most(response, MAX_ANSWER_BYTES, endpoint)
    headers = CIMultiDictProxy(CIMultiDict(response.headers))
    data: Any = None
    if raw and "json" in headers.get("Content-Type", ""):
        large = len(raw) > PARSED_ON_LOOP_BYTES
        data = await asyncio.to_thread(decoded, raw) if large else decoded(raw)
    names = tuple(name.decode("latin-1") for name, _ in response.raw_headers)
    return Reply(response.status, data, headers, raw, names)


def decoded(raw: bytes) -> Any:
    """An answer's JSON, or None when it is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


async def read_at_most(response: aiohttp.ClientResponse, limit: int, endpoint: str) -> bytes:
    """The answer's body, refused past `limit` bytes before more is read."""
    declared = response.content_length
    if declared is None or declared <= limit:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
        else:
            return b"".join(chunks)
    raise AnswerTooLarge(
        f"{endpoint}: SendGrid's answer is over {limit >> 20} MB; syncd does not read it"
    )
