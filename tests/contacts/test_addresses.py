"""Email addresses keyed as SendGrid stores them: lower-cased, domains in ASCII."""

from __future__ import annotations

import sys

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.contacts import Built, ContactBuilder, Outgoing, bind_fields, refuses_the_address
from syncd.contacts.addresses import LOWERS_INTO_ASCII, refusal
from syncd.destinations import Mapping

MAPPING = Mapping.model_validate({"email": "Email", "first_name": "First"})
BUILDER = ContactBuilder(MAPPING)
OUTGOING = Outgoing(bind_fields("L", [], {}), MAPPING)
KELVIN = "\u212a"
BUCHER = "b\u00fccher"  # bücher, precomposed
NON_ASCII_BEFORE_AT = (
    "email is not a valid address: SendGrid does not accept non-ASCII characters before the @"
)


def keyed(email: str) -> str:
    """The row's key, or why `key` refuses it."""
    result = BUILDER.key([email, "Ann"])
    return result if isinstance(result, str) else result[0]


def sent_email(email: str) -> str:
    """The address SendGrid receives for this row (key, build and encode all agree)."""
    result = BUILDER.key([email, "Ann"])
    assert not isinstance(result, str), result
    built = BUILDER.build_encoded(result[2])
    assert isinstance(built, Built), built
    assert built.email == result[0]
    encoded = OUTGOING.encode(built.payload)
    assert isinstance(encoded, bytes), encoded
    address: str = orjson.loads(encoded)["email"]
    assert address == built.email
    return address


def test_an_internationalised_domain_is_keyed_and_sent_in_its_ascii_form() -> None:
    assert sent_email(f" Ann@{BUCHER.upper()}.CH ") == "ann@xn--bcher-kva.ch"
    assert sent_email("a@\u4f8b\u3048.jp") == "a@xn--r8jz45g.jp"  # 例え.jp
    assert sent_email("a@stra\u00dfe.de") == "a@xn--strae-oqa.de"  # ß is kept (IDNA 2008)


@pytest.mark.parametrize(
    "spelling",
    [
        f"a@{BUCHER}.ch",
        "a@xn--bcher-kva.ch",
        "A@XN--BCHER-KVA.CH",
        f"A@{BUCHER.upper()}.CH",
        "a@bu\u0308cher.ch",  # u + combining diaeresis
        f"\u00a0a@{BUCHER}.ch\u3000",  # trimmed of Unicode spaces too
    ],
)
def test_every_spelling_of_one_address_keys_to_one_contact_with_one_fingerprint(
    spelling: str,
) -> None:
    reference = BUILDER.build([f"a@{BUCHER}.ch", "Ann"])
    built = BUILDER.build([spelling, "Ann"])
    assert isinstance(reference, Built)
    assert built == reference
    assert keyed(spelling) == "a@xn--bcher-kva.ch"


@pytest.mark.parametrize(
    "address", ["jos\u00e9@example.com", f"ann\u00a0lee@{BUCHER}.ch", "\u00e9@xn--bcher-kva.ch"]
)
def test_an_address_with_non_ascii_characters_before_the_at_is_refused(address: str) -> None:
    assert keyed(address) == NON_ASCII_BEFORE_AT
    assert BUILDER.build([address, "Ann"]) == NON_ASCII_BEFORE_AT


@pytest.mark.parametrize(
    ("address", "character"),
    [
        (f"{KELVIN}ate@example.com", "U+212A"),  # would be kate@example.com
        (f"kate@{KELVIN}elvin.com", "U+212A"),
        ("\u0130nfo@example.com", "U+0130"),
    ],
)
def test_an_address_that_lower_casing_would_turn_into_another_is_refused(
    address: str, character: str
) -> None:
    reason = (
        f"email is not a valid address: {character} would become an ASCII letter when "
        "lower-cased, which makes it another address"
    )
    assert keyed(address) == reason
    assert BUILDER.build([address, "Ann"]) == reason


def test_the_characters_lower_casing_turns_into_ascii_are_exactly_those_refused() -> None:
    turning = {
        chr(code)
        for code in range(0x80, sys.maxunicode + 1)
        if any(c.isascii() for c in chr(code).lower())
    }
    assert turning == LOWERS_INTO_ASCII


@pytest.mark.parametrize(
    "address",
    [
        "a@\u017ftrasse.de",  # long s: IDNA reads it as s
        "a@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",  # full-width "example"
        f"a@{BUCHER}\u3002ch",  # ideographic full stop: IDNA reads it as "."
    ],
)
def test_a_domain_that_idna_would_turn_into_another_is_refused(address: str) -> None:
    assert keyed(address) == (
        "email is not a valid address: its domain changes when converted to ASCII (IDNA maps "
        "some of its characters to others); write the domain as it is meant"
    )


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        (f"a@{BUCHER}", "The part after the @-sign is not valid. It should have a period."),
        (f"a@-{BUCHER}.ch", "An email address cannot have a hyphen immediately after the @-sign."),
        ("a@m\u00fcnchen.test", "The part after the @-sign is a special-use or reserved name"),
        (f"{BUCHER}.ch", "no @"),
    ],
)
def test_an_invalid_internationalised_address_is_refused_when_keyed(
    address: str, reason: str
) -> None:
    assert keyed(address).startswith(f"email is not a valid address: {reason}")


@pytest.mark.parametrize(
    "address", ["a@\u00fc\u2014hunter2-secret.com", "a@xn--hunter2secret-x5b.com"]
)
def test_the_reason_for_an_invalid_address_does_not_quote_it(address: str) -> None:
    # The validator quotes a whole label of an IDNA error; the row's address is blank
    # (there is no key), so the reason carried the value past every mask to plans and the
    # status page. (An ASCII address is keyed as it is, and refused when built.)
    reason = keyed(address) if not address.isascii() else refusal(address)
    assert reason is not None
    assert reason.startswith("email is not a valid address: "), reason
    assert "hunter2" not in reason, reason
    assert "'…'" in reason, reason
    assert keyed("a@s\u00e9cret_x.com").endswith("contains invalid characters: '_'.")
    # In double quotes when the span holds a quote itself (Python's repr).
    quoted = refusal("x@[IPv6:ab'cd'hunter2secret::1]")
    assert quoted is not None
    assert "hunter2" not in quoted, quoted


def test_a_blank_address_in_unicode_spaces_is_empty() -> None:
    assert keyed("\u3000\u00a0") == "email is empty"


ADDRESS_PARTS = ["a", "Z", "@", ".", "-", "xn--", "co", " ", "\u00fc", "\u00dc", "\u00df"]
ADDRESS_PARTS += [KELVIN, "\u017f", "\u0130", "\u3002", "\u00a0", "\u0308", "\uff45", "\u4f8b"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(ADDRESS_PARTS), max_size=14).map("".join))
def test_key_and_build_agree_on_every_address(address: str) -> None:
    key = BUILDER.key([address, "Ann"])
    built = BUILDER.build([address, "Ann"])
    if isinstance(key, str):
        assert key == "email is empty" or built == key
    elif isinstance(built, Built):
        assert built.email == key[0]
        assert built.email.isascii()
        assert built.email == built.email.lower()


@pytest.mark.parametrize(
    ("row", "of_the_address"),
    [
        (["someone@example", "Ann"], True),  # refused when encoded
        (["no-at-sign", "Ann"], True),
        ([f"{KELVIN}ate@example.com", "Ann"], True),
        (["a" * 250 + "@example.com", "Ann"], True),
        (["ann@example.com", "Ann\x07"], False),
        (["ann@example.com", "A" * 60], False),
    ],
)
def test_a_refusal_of_the_address_itself_is_told_from_one_of_another_value(
    row: list[str], of_the_address: bool
) -> None:
    # `syncd explain` told to wait for the values to change when the address was refused.
    keyed = BUILDER.key(row)
    built = keyed if isinstance(keyed, str) else BUILDER.build_encoded(keyed[2])
    reason = OUTGOING.encode(built.payload) if isinstance(built, Built) else built
    assert isinstance(reason, str), reason
    assert refuses_the_address(reason) is of_the_address, reason
