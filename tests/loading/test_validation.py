"""Schema errors become problems at the key or value they concern, in plain words."""

from __future__ import annotations

from syncd.loading.problems import Problem
from syncd.loading.validation import allowed_keys, validate
from syncd.loading.yaml_reading import read_yaml
from tests.loading.examples import VALID, changed, line_of


def problems_of(text: str) -> tuple[Problem, ...]:
    definition, problems = validate(read_yaml(text.encode(), "f.yaml"), "f.yaml")
    assert (definition is None) == bool(problems)
    return problems


def test_the_valid_example_validates() -> None:
    definition, problems = validate(read_yaml(VALID.encode(), "f.yaml"), "f.yaml")

    assert problems == ()
    assert definition is not None
    assert definition.name == "vip-newsletter"


def test_an_unknown_key_is_reported_at_its_line_with_the_allowed_keys() -> None:
    text = changed("  onLeave:", "  bogus: 1\n  onLeave:")

    (problem,) = problems_of(text)

    assert (problem.line, problem.column) == (line_of(text, "bogus"), 3)
    assert problem.message == (
        "spec.bogus: unknown key (allowed: displayName, suspend, sendgrid, consent, "
        "segments, mapping, schedule, onLeave, limits, audit)"
    )


def test_a_snake_case_key_is_unknown_and_the_camel_case_one_is_suggested() -> None:
    text = changed("    listId:", "    list_id:")

    messages = [p.message for p in problems_of(text)]

    assert "spec.sendgrid.list_id: unknown key (allowed: apiKey, listId, baseUrl)" in messages
    assert "spec.sendgrid.listId: required field is missing" in messages


def test_a_missing_email_mapping_is_reported_at_the_mapping_key() -> None:
    text = changed("    email: EmailAddress\n", "")

    (problem,) = problems_of(text)

    assert (problem.line, problem.column) == (line_of(text, "  mapping:"), 3)
    assert problem.message == "spec.mapping.email: required field is missing"


def test_a_missing_top_level_section_is_reported_at_the_start_of_the_document() -> None:
    text = VALID.split("spec:")[0]

    (problem,) = problems_of(text)

    assert (problem.line, problem.column, problem.message) == (
        1,
        1,
        "spec: required field is missing",
    )


def test_a_wrong_value_is_reported_at_the_value() -> None:
    text = changed("onLeave: removeFromList", "onLeave: nuke")

    (problem,) = problems_of(text)

    assert (problem.line, problem.column) == (line_of(text, "onLeave"), 12)
    assert problem.message == "spec.onLeave: should be 'removeFromList', 'keep' or 'deleteContact'"


def test_an_inline_api_key_is_refused_and_never_echoed() -> None:
    text = changed("apiKey: {env: SENDGRID_API_KEY}", "apiKey: SG.canary-inline.secret-value")

    (problem,) = problems_of(text)

    assert (problem.line, problem.column) == (line_of(text, "apiKey"), 13)
    assert problem.message.startswith("spec.sendgrid.apiKey: inline secrets are refused")
    assert "canary" not in str(problem)
    assert "Value error" not in problem.message


def test_a_model_rule_on_a_mapping_is_reported_at_its_key() -> None:
    text = changed("source: {csv: {path: ../examples/data/vip.csv}}", "source: {}")

    (problem,) = problems_of(text)

    assert (problem.line, problem.column) == (line_of(text, "source:"), 7)
    assert problem.message == (
        "spec.segments[0].source: give exactly one source kind: csv, jsonl, sqlite or postgres"
    )


def test_a_bad_list_id_gets_a_hint_instead_of_a_regular_expression() -> None:
    text = changed("listId: 7f3c2a9e-1b4d-4c8e-9a52-3e6f0b1d2c4a", "listId: my-list")

    (problem,) = problems_of(text)

    assert problem.message.startswith("spec.sendgrid.listId: should be the id of a SendGrid list")


def test_a_bad_custom_field_name_is_reported_at_the_key() -> None:
    text = changed("custom_fields: {loyalty_tier: Tier}", "custom_fields: {9tier: Tier}")

    (problem,) = problems_of(text)

    assert (problem.line, problem.column) == (line_of(text, "custom_fields"), 21)
    assert problem.message.startswith(
        "spec.mapping.custom_fields.9tier: invalid key: should be a custom field name"
    )


def test_an_unquoted_number_where_text_is_expected_suggests_quotes() -> None:
    text = changed("first_name: FirstName", "first_name: 12")

    (problem,) = problems_of(text)

    assert problem.message == (
        "spec.mapping.first_name: should be text, but YAML reads this unquoted value as an "
        "integer; put it in quotes"
    )


def test_an_empty_value_says_it_is_empty() -> None:
    text = changed("    email: EmailAddress", "    email:")

    (problem,) = problems_of(text)

    assert problem.message == "spec.mapping.email: is empty; should be a valid string"


def test_every_error_of_a_file_is_reported_in_one_go() -> None:
    text = changed("name: vip-newsletter", "name: VIP")
    text = changed("dataPrivacyAcknowledged: true", "dataPrivacyAcknowledged: perhaps", text)
    text = changed("interval: 1h", "interval: soon", text)

    paths = [p.message.split(":")[0] for p in problems_of(text)]

    assert paths == [
        "metadata.name",
        "spec.consent.dataPrivacyAcknowledged",
        "spec.schedule.interval",
    ]


def test_allowed_keys_follow_lists_and_optional_models() -> None:
    assert allowed_keys(()) == ("apiVersion", "kind", "metadata", "spec")
    assert allowed_keys(("spec", "segments", 3, "source", "postgres")) == (
        "dsn",
        "query",
        "statementTimeout",
    )
    assert allowed_keys(("spec", "mapping", "custom_fields")) == ()


def test_a_value_that_crashes_a_model_validator_refuses_the_file_instead_of_crashing() -> None:
    text = changed("interval: 1h", "interval: 99999999999999999999999d")

    problems = problems_of(text)

    assert len(problems) == 1
    assert "99999" not in str(problems[0])


def test_a_codec_that_is_not_a_files_encoding_is_reported_at_the_value() -> None:
    text = changed("../examples/data/vip.csv}", "../examples/data/vip.csv, encoding: rot13}")

    (problem,) = problems_of(text)

    assert problem.line == line_of(text, "encoding: rot13")
    assert problem.message == (
        "spec.segments[0].source.csv.encoding: 'rot13' is not a character encoding of "
        "files (e.g. utf-8, latin-1)"
    )
