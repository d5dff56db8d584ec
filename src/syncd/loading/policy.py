"""A valid destination held to the operator's allowlists (`syncd.allowlists`).

Checked: `spec.sendgrid.baseUrl`, every secret reference (`apiKey`, a PostgreSQL
`dsn`), every file source's path and every query's `statementTimeout`. Names, paths and
numbers only: nothing is opened, no secret is read, no network touched, so `syncd
validate` in CI refuses a file that would send a secret elsewhere before anything runs.
Each refusal is reported at the value it concerns and names the setting that would
allow it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from syncd.allowlists import Allowlists, NotAllowed
from syncd.destinations import Destination, PostgresSource, SecretRef, SqliteSource
from syncd.durations import duration_text
from syncd.loading.problems import Problem, describe_value, format_path, mask_secrets
from syncd.loading.validation import place_of
from syncd.loading.yaml_reading import DataPath, NodeInfo

_SOURCE_KINDS = ("csv", "jsonl", "sqlite", "postgres")


def refusals(
    definition: Destination,
    nodes: Mapping[DataPath, NodeInfo],
    file: Path,
    allowlists: Allowlists,
) -> list[Problem]:
    """Every reference of `definition` the allowlists refuse (relative paths: from `file`)."""
    relative_to = file.parent
    problems: list[Problem] = []

    def check(path: DataPath, value: str, decide: Callable[[], object]) -> None:
        try:
            decide()
        except NotAllowed as refused:
            place = place_of(path, nodes.get(path), nodes, entry=False)
            shown = f"{format_path(path)}: {describe_value(value)} {refused.reason}"
            message = mask_secrets(shown)  # a resolved path repeats what was written
            problems.append(Problem(str(file), place.line, place.column, message))

    def secret(path: DataPath, ref: SecretRef) -> None:
        if ref.env is not None:
            check((*path, "env"), ref.env, partial(allowlists.check_secret_env, ref.env))
        elif ref.file is not None:
            check((*path, "file"), ref.file, partial(allowlists.secret_file, ref.file, relative_to))

    sendgrid = definition.spec.sendgrid
    if sendgrid.base_url is not None:
        url = sendgrid.base_url
        check(("spec", "sendgrid", "baseUrl"), url, partial(allowlists.check_sendgrid_url, url))
    secret(("spec", "sendgrid", "apiKey"), sendgrid.api_key)
    for index, segment in enumerate(definition.spec.segments):
        kind = next(k for k in _SOURCE_KINDS if getattr(segment.source, k) is not None)
        where: DataPath = ("spec", "segments", index, "source", kind)
        options = segment.source.options
        if isinstance(options, PostgresSource):
            secret((*where, "dsn"), options.dsn)
        else:
            path = options.path
            check((*where, "path"), path, partial(allowlists.source_file, path, relative_to))
        if isinstance(options, PostgresSource | SqliteSource):
            limit = options.statement_timeout
            decide = partial(allowlists.check_statement_timeout, limit.total_seconds())
            check((*where, "statementTimeout"), duration_text(limit), decide)
    return problems
