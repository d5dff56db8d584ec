"""Loading holds every valid file to the operator's allowlists, at the value concerned."""

from __future__ import annotations

import os
from pathlib import Path

from syncd.allowlists import Allowlists
from syncd.loading import Catalog, load_directory
from tests.loading.examples import VALID, changed, line_of, write

SECRET_VALUE = "SG.CANARYnever-shown0000.CANARYnever-shown-0123456789abcdefghijk"


def policy(root: Path, **overrides: object) -> Allowlists:
    """The defaults, with the test's own tree for secret files and sources."""
    chosen: dict[str, object] = {
        "sendgrid_base_urls": ("https://api.sendgrid.com",),
        "secret_env": ("SENDGRID_API_KEY", "SENDGRID_API_KEY_*"),
        "secret_dirs": (root / "secrets",),
        "source_dirs": (root,),
        **overrides,
    }
    return Allowlists(**chosen)  # type: ignore[arg-type]


def load(root: Path, text: str, **overrides: object) -> Catalog:
    write(root / "destinations.d", "vip.yaml", text)
    return load_directory(root / "destinations.d", policy(root, **overrides))


def only_problem(catalog: Catalog) -> str:
    assert not catalog.destinations
    (problem,) = catalog.problems
    return str(problem)


def test_a_file_within_the_allowlists_loads_and_carries_them(tmp_path: Path) -> None:
    catalog = load(tmp_path, changed("../examples/data/vip.csv", "../data/vip.csv"))

    assert not catalog.problems
    assert catalog.destinations["vip-newsletter"].allowlists == policy(tmp_path)


def test_a_base_url_outside_the_allowlist_is_refused_at_its_value_naming_the_setting(
    tmp_path: Path,
) -> None:
    text = changed("    listId:", "    baseUrl: http://127.0.0.1:9/v3\n    listId:", VALID).replace(
        "../examples/data/vip.csv", "../data/vip.csv"
    )

    problem = only_problem(load(tmp_path, text))

    assert problem.endswith(
        f"vip.yaml:{line_of(text, 'baseUrl')}:14: spec.sendgrid.baseUrl: http://127.0.0.1:9/v3 "
        "is not an allowed SendGrid URL; allowed: https://api.sendgrid.com "
        "(SYNCD_SENDGRID_BASE_URLS)"
    )


def test_an_allowed_base_url_loads(tmp_path: Path) -> None:
    text = changed("    listId:", "    baseUrl: https://api.eu.sendgrid.com/\n    listId:")
    text = text.replace("../examples/data/vip.csv", "../data/vip.csv")
    eu = ("https://api.sendgrid.com", "https://api.eu.sendgrid.com")

    assert not load(tmp_path, text, sendgrid_base_urls=eu).problems


def test_an_environment_variable_outside_the_allowlist_is_named_never_its_value(
    tmp_path: Path,
) -> None:
    text = changed("apiKey: {env: SENDGRID_API_KEY}", "apiKey: {env: WAREHOUSE_DSN}")
    text = text.replace("../examples/data/vip.csv", "../data/vip.csv")

    problem = only_problem(load(tmp_path, text))

    assert f":{line_of(text, 'apiKey')}:19: spec.sendgrid.apiKey.env: WAREHOUSE_DSN is not" in (
        problem
    )
    assert "allowed: SENDGRID_API_KEY, SENDGRID_API_KEY_* (SYNCD_SECRET_ENV)" in problem


def test_syncd_own_settings_are_refused_whatever_the_allowlist_says(tmp_path: Path) -> None:
    text = changed("apiKey: {env: SENDGRID_API_KEY}", "apiKey: {env: SYNCD_ADMIN_TOKEN}")
    text = text.replace("../examples/data/vip.csv", "../data/vip.csv")

    problem = only_problem(load(tmp_path, text, secret_env=("*",)))

    assert "spec.sendgrid.apiKey.env: SYNCD_ADMIN_TOKEN is one of syncd's own settings" in problem


def test_a_secret_file_outside_the_secret_directories_is_refused_with_its_real_path(
    tmp_path: Path,
) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "link").symlink_to(tmp_path / "elsewhere")
    text = changed("apiKey: {env: SENDGRID_API_KEY}", "apiKey: {file: ../secrets/link}")
    text = text.replace("../examples/data/vip.csv", "../data/vip.csv")

    problem = only_problem(load(tmp_path, text))

    assert "spec.sendgrid.apiKey.file: ../secrets/link resolves to " in problem
    assert f"{tmp_path.resolve()}/elsewhere, which is outside the allowed secret" in problem
    assert problem.endswith("(SYNCD_SECRET_DIRS)")


def test_a_secret_file_inside_loads_without_being_read(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    os.mkfifo(tmp_path / "secrets" / "api-key")  # reading it would block: it is not read
    text = changed("apiKey: {env: SENDGRID_API_KEY}", "apiKey: {file: ../secrets/api-key}")
    text = text.replace("../examples/data/vip.csv", "../data/vip.csv")

    assert not load(tmp_path, text).problems


def test_a_source_outside_the_source_directories_is_refused(tmp_path: Path) -> None:
    text = changed("../examples/data/vip.csv", "/etc/passwd")

    problem = only_problem(load(tmp_path, text))

    assert f":{line_of(text, '/etc/passwd')}:" in problem
    assert "spec.segments[0].source.csv.path: /etc/passwd is outside the allowed source" in problem
    assert problem.endswith("(SYNCD_SOURCE_DIRS)")


def test_a_postgres_dsn_reference_is_checked_like_the_key(tmp_path: Path) -> None:
    text = changed(
        "      source: {csv: {path: ../examples/data/vip.csv}}",
        "      source: {postgres: {dsn: {file: /proc/self/environ}, query: SELECT 1}}",
    )

    problem = only_problem(load(tmp_path, text))

    assert "spec.segments[0].source.postgres.dsn.file: /proc/self/environ resolves to" in problem
    assert problem.endswith("(SYNCD_SECRET_DIRS)")


def test_every_refusal_of_a_file_is_reported_and_none_echoes_a_key(tmp_path: Path) -> None:
    text = changed("apiKey: {env: SENDGRID_API_KEY}", f"apiKey: {{file: {SECRET_VALUE}}}")
    text = changed("    listId:", "    baseUrl: https://evil.example\n    listId:", text)

    catalog = load(tmp_path, text)

    shown = "\n".join(str(p) for p in catalog.problems)
    assert len(catalog.problems) == 2  # the URL and the key's file
    assert SECRET_VALUE not in shown
    assert "a value shaped like an API key" in shown


def sqlite_source(text: str, extra: str = "") -> str:
    query = "path: ../data/warehouse.db, query: 'SELECT * FROM people'"
    source = "{sqlite: {" + query + extra + "}}"
    return text.replace("{csv: {path: ../examples/data/vip.csv}}", source)


def test_a_query_without_a_time_limit_is_refused_naming_the_setting(tmp_path: Path) -> None:
    text = sqlite_source(VALID, ", statementTimeout: 0")

    problem = only_problem(load(tmp_path, text))

    assert problem.endswith(
        "spec.segments[0].source.sqlite.statementTimeout: 0s (no limit) is not allowed: "
        "at most 3600s (SYNCD_MAX_STATEMENT_TIMEOUT)"
    )
    assert f"vip.yaml:{line_of(text, 'statementTimeout')}:" in problem


def test_a_query_time_limit_over_the_operators_is_refused_and_one_under_it_loads(
    tmp_path: Path,
) -> None:
    over = only_problem(load(tmp_path, sqlite_source(VALID, ", statementTimeout: 2h")))
    assert over.endswith("2h is longer than the allowed 3600s (SYNCD_MAX_STATEMENT_TIMEOUT)")
    assert not load(tmp_path, sqlite_source(VALID, ", statementTimeout: 59m")).problems
    uncapped = load(
        tmp_path, sqlite_source(VALID, ", statementTimeout: 0"), max_statement_timeout=0
    )
    assert not uncapped.problems  # the operator lifted the cap


def test_the_ledger_and_its_side_files_are_never_a_source(tmp_path: Path) -> None:
    ledger = tmp_path / ".syncd" / "state.db"
    for name in ("state.db", "state.db-wal"):
        text = sqlite_source(VALID).replace("../data/warehouse.db", f"../.syncd/{name}")
        problem = only_problem(load(tmp_path, text, ledger_file=ledger))
        assert problem.endswith(
            f"../.syncd/{name} is syncd's own ledger (SYNCD_STATE), never a source"
        )
    other = sqlite_source(VALID).replace("../data/warehouse.db", "../.syncd/other.db")
    assert not load(tmp_path, other, ledger_file=ledger).problems
