"""The one scrubber knows every part of a secret, masks addresses unless told not to, and
shows control characters rather than passing them to a terminal."""

from __future__ import annotations

import io
import sys
from typing import TextIO, cast
from urllib.parse import quote

import orjson
import pytest

from syncd.cli.following import Follower
from syncd.cli.output import ScrubbedStream, addresses_shown, scrubbed_output
from syncd.logs import (
    CONTROL_RANGES,
    controls,
    email_token,
    register_secret,
    scrub,
    scrub_data,
)

PASSWORD = "Pa%ss w0rd!CANARY"  # a `%` that is no escape, and a space


def test_a_dsn_password_is_masked_as_written_decoded_and_encoded() -> None:
    register_secret(f"postgresql://reader:{PASSWORD}@warehouse.internal:5432/marts")
    encoded = quote(PASSWORD, safe="")

    for text in (
        f'invalid percent-encoded token: "{PASSWORD}"',
        f"password was {encoded}",
        f"postgresql://reader:{PASSWORD}@warehouse.internal:5432/marts",
    ):
        assert "CANARY" not in scrub(text), text
        assert "w0rd" not in scrub(text), text


def test_a_keyword_dsn_and_a_query_password_are_masked_too() -> None:
    register_secret("host=db user=u password='quoted pw CANARY2' dbname=x")
    register_secret("postgresql://db/x?user=u&password=query%20pw%20CANARY3")

    assert scrub("server said: quoted pw CANARY2") == "server said: ***"
    assert scrub("rejected query pw CANARY3") == "rejected ***"
    assert scrub("rejected query%20pw%20CANARY3") == "rejected ***"


def test_values_shorter_than_six_characters_are_not_registered() -> None:
    register_secret("abc12")
    assert scrub("abc12 stays") == "abc12 stays"


def test_addresses_are_masked_unless_the_caller_keeps_them() -> None:
    register_secret("SG.secret-kept-out.of-every-output")
    text = "Ada@Example.com bounced (SG.secret-kept-out.of-every-output)"

    assert scrub(text) == f"{email_token('ada@example.com')} bounced (***)"
    assert scrub(text, addresses=False) == "Ada@Example.com bounced (***)"


def test_an_address_masked_as_the_json_shapes_mask_it_is_left_alone() -> None:
    text = "a***@example.com and `***@example.com`, but not ann***@example.com"

    assert scrub(text) == (
        f"a***@example.com and `***@example.com`, but not {email_token('ann***@example.com')}"
    )


def test_json_data_is_scrubbed_keys_and_values() -> None:
    body = {"error": "ada@example.com: x", "items": [{"ada@example.com": 1}], "n": 3}

    scrubbed = scrub_data(body)

    token = email_token("ada@example.com")
    assert scrubbed == {"error": f"{token}: x", "items": [{token: 1}], "n": 3}


def test_the_cli_streams_scrub_what_any_print_writes(capsys: pytest.CaptureFixture[str]) -> None:
    register_secret("admin-token-CANARY4")
    with scrubbed_output():
        print("token admin-token-CANARY4 for ada@example.com")
        print("oops admin-token-CANARY4", file=sys.stderr)
        with addresses_shown():
            print("rejected: ada@example.com admin-token-CANARY4")
    out, err = capsys.readouterr()
    assert out == (
        f"token *** for {email_token('ada@example.com')}\nrejected: ada@example.com ***\n"
    )
    assert err == "oops ***\n"


def test_a_scrubbed_stream_is_a_terminal_when_its_stream_is() -> None:
    stream = ScrubbedStream(io.StringIO())
    assert not stream.isatty()
    assert stream.write("x") == 1


def test_control_characters_are_shown_never_obeyed_and_json_keeps_its_meaning() -> None:
    # A title change, a screen clear, a carriage return that overwrites the line, a C1
    # CSI, a right-to-left override; tab and line feed are text and stay.
    hostile = "a\x1b]0;t\x07\x1b[2J\rb\x9b\u202ec\td\ne"
    assert scrub(hostile) == "a\\u001b]0;t\\u0007\\u001b[2J\\u000db\\u009b\\u202ec\td\ne"
    # JSON written raw (orjson leaves C1 and bidirectional controls as they are) stays
    # JSON, with the same values.
    written = orjson.dumps({"name": hostile}).decode()
    assert orjson.loads(scrub(written)) == {"name": hostile}
    assert not any(ch in scrub(written) for ch in "\x9b\u202e")


def test_the_progress_line_draws_through_a_scrubbed_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    follower = Follower("members", cast(TextIO, ScrubbedStream(terminal)), clock=lambda: 0.0)
    follower({"phase": "sending", "ratio": 0.5})
    follower.close()
    assert terminal.getvalue().startswith("\r\x1b[Kmembers [")  # syncd's own, obeyed
    assert terminal.getvalue().endswith("\r\x1b[K")


def test_every_control_pattern_is_the_one_set_less_what_it_keeps() -> None:
    """One definition of the control characters (`CONTROL_RANGES`): a pattern that keeps
    some (tab and line feed in shown texts) matches every other one and nothing else."""
    ranges = [range(low, high + 1) for low, high in CONTROL_RANGES]
    every = {chr(code) for span in ranges for code in span}
    assert {"\x00", "\x1b", "\x7f", "\x9b", "\u2028", "\u202e", "\u2069"} <= every
    kept = "\t\n"
    pattern = controls(keep=kept)
    for code in range(0x3000):  # past the highest range, and plain letters before it
        char = chr(code)
        assert bool(pattern.fullmatch(char)) == (char in every and char not in kept), hex(code)
    assert controls().fullmatch("\t")
    assert not pattern.fullmatch("\t")


def test_an_error_body_is_cut_before_it_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 5 MB error body scrubbed whole held the event loop for minutes.
    from syncd.sendgrid import replies

    seen: list[int] = []

    def measured(text: str, *, addresses: bool = True) -> str:
        seen.append(len(text))
        return scrub(text, addresses=addresses)

    monkeypatch.setattr(replies, "scrub", measured)
    shown = replies.excerpt(None, "x" * 5_000_000 + " SG.canarykey1234.canarysecret5678")
    assert seen == [replies.EXCERPT_WINDOW]
    assert shown == "x" * 300


@pytest.mark.timeout(20)
@pytest.mark.parametrize("run", ["a://", "a://b:", "ab://c:d/", "a://b:c "])
def test_a_long_run_of_url_beginnings_is_scrubbed_in_linear_time(run: str) -> None:
    # A password ran to the end of the text at every `scheme://user:` (a displayName of
    # "a://" 60,000 times held the event loop 70 s at each status request); 1 MB: hours.
    text = run * (1_000_000 // len(run))
    assert scrub(text + "x://u:secret@host") == text + "x://u:***@host"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to ann.lee+tag@example.co.uk now", ["ann.lee+tag@example.co.uk"]),
        ("x" * 5000 + "@example.com", ["x" * 5000 + "@example.com"]),
        ("<bob@example.com>,carl@example.org", ["bob@example.com", "carl@example.org"]),
        ("a.b.c-d@sub.example.com.", ["a.b.c-d@sub.example.com"]),
        ("no address @ here, nor in x@y", []),
    ],
)
def test_addresses_are_found_whole_wherever_their_run_of_characters_starts(
    text: str, masked: list[str]
) -> None:
    # The pattern starts only where a run of address characters starts (so that a long run
    # without an @ is tried once, not at each of its characters): the same addresses.
    expected = text
    for address in masked:
        expected = expected.replace(address, email_token(address))
    assert scrub(text) == expected


def test_a_sendgrid_key_is_masked_also_without_its_prefix_or_in_parts() -> None:
    key = "SG.canaryKEYid0123456789.canarySECRET987654zyxwABCDEFGHIJ"
    register_secret(key)
    _, key_id, secret = key.split(".")
    for quoted in (key, f"raw={key_id}.{secret}", f"id {key_id}", f"secret {secret}!"):
        shown = scrub(quoted)
        assert key_id not in shown, shown
        assert secret not in shown, shown
