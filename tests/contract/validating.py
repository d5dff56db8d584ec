"""Checks recorded HTTP exchanges against the vendored SendGrid OpenAPI spec (openapi-core).

Any test that runs a client against the emulator with `record_exchanges=True` (the
`emulator` fixture does) can finish with

    assert_exchanges_conform(emulator.exchanges)

to check that every request the client sent and every answer it got matches the spec, as
corrected by `deviations.py`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.contract.deviations import ALL_SPECS, DEVIATIONS, apply_deviations

SPEC_DIR = Path(__file__).parent / "spec"
# The spec's server; the emulator's own origin is irrelevant to conformance.
HOST_URL = "https://api.sendgrid.com"


class ExchangeLike(Protocol):
    """What `syncd.emulator.Exchange` records; anything shaped alike can be checked."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def body(self) -> bytes: ...
    @property
    def template(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def response_headers(self) -> dict[str, str]: ...
    @property
    def response_body(self) -> bytes | None: ...


@dataclass(frozen=True)
class Conformance:
    """The verdict on one exchange; empty error tuples mean it conforms."""

    exchange: ExchangeLike
    request_errors: tuple[str, ...] = ()
    response_errors: tuple[str, ...] = ()

    @property
    def conforms(self) -> bool:
        return not self.request_errors and not self.response_errors

    def describe(self) -> str:
        lines = [f"{self.exchange.template} -> {self.exchange.status}"]
        lines += [f"  request: {error}" for error in self.request_errors]
        lines += [f"  response: {error}" for error in self.response_errors]
        return "\n".join(lines)


@dataclass
class _Request:
    """openapi-core's request protocol over a recorded exchange."""

    method: str
    path: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters
    host_url: str = HOST_URL


@dataclass
class _Response:
    status_code: int
    data: bytes | None
    content_type: str
    headers: Headers = field(default_factory=Headers)


def load_spec(name: str, *, leave_out: str | None = None) -> dict[str, Any]:
    """A vendored spec with the deviations applied (all of them, or all but one)."""
    spec: dict[str, Any] = json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))
    return apply_deviations(name, spec, leave_out=leave_out)


@functools.cache
def _spec_names_by_path() -> Mapping[str, str]:
    """Each spec path template to the file that defines it."""
    by_path: dict[str, str] = {}
    for name in ALL_SPECS:
        spec = json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))
        by_path.update(dict.fromkeys(spec["paths"], name))
    return by_path


@functools.cache
def _openapi(name: str, leave_out: str | None) -> OpenAPI:
    return OpenAPI.from_dict(load_spec(name, leave_out=leave_out))


def spec_name_for(template: str) -> str | None:
    """The vendored file defining an endpoint template such as `GET /v3/scopes`."""
    return _spec_names_by_path().get(template.partition(" ")[2])


def _openapi_for(path_template: str, leave_out: str | None) -> OpenAPI | None:
    name = _spec_names_by_path().get(path_template)
    if name is None:
        return None
    # Leaving out a deviation that does not touch this file changes nothing: share the build.
    touched = {d.name for d in DEVIATIONS if name in d.specs}
    return _openapi(name, leave_out if leave_out in touched else None)


def check_exchange(exchange: ExchangeLike, *, leave_out: str | None = None) -> Conformance:
    """Validates one exchange's request and (if there was one) its response."""
    method, _, path_template = exchange.template.partition(" ")
    openapi = _openapi_for(path_template, leave_out)
    if openapi is None:
        return Conformance(exchange, request_errors=(f"no operation for {exchange.template}",))
    request = _Request(
        method=method.lower(),
        path=exchange.path,
        body=exchange.body or None,
        content_type=_content_type(exchange.headers) or "application/json",
        parameters=RequestParameters(
            query=ImmutableMultiDict(list(exchange.query)),
            header=Headers(exchange.headers),
        ),
    )
    request_errors = _errors(lambda: openapi.validate_request(request))
    response_errors: tuple[str, ...] = ()
    if exchange.status is not None:
        response = _Response(
            status_code=exchange.status,
            data=exchange.response_body,
            content_type=_content_type(exchange.response_headers),
            headers=Headers(exchange.response_headers),
        )
        response_errors = _errors(lambda: openapi.validate_response(request, response))
    return Conformance(exchange, request_errors, response_errors)


def assert_exchanges_conform(
    exchanges: Iterable[ExchangeLike], *, allow_invalid_requests: bool = False
) -> None:
    """Fails listing every exchange that does not conform (requests too, unless allowed)."""
    exchanges = list(exchanges)
    assert exchanges, "no exchanges were recorded: is record_exchanges=True?"
    failures = []
    for exchange in exchanges:
        verdict = check_exchange(exchange)
        if allow_invalid_requests:
            verdict = Conformance(exchange, (), verdict.response_errors)
        if not verdict.conforms:
            failures.append(verdict.describe())
    assert not failures, "exchanges that do not conform to the SendGrid spec:\n" + "\n".join(
        failures
    )


def _errors(validate: Callable[[], object]) -> tuple[str, ...]:
    try:
        validate()
    except OpenAPIError as error:
        return (_describe(error),)
    return ()


def _describe(error: BaseException) -> str:
    detail = f"{type(error).__name__}: {error}"
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        detail += " [" + "; ".join(str(getattr(e, "message", e)) for e in schema_errors) + "]"
    elif cause is not None:
        detail += f" [{cause!r}]"
    return detail


def _content_type(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value.lower()
    return ""
