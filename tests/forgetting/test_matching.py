"""A forgotten address is recognised in a row however the row writes it, and only then."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from syncd.contacts import ContactBuilder, Forgotten, address_key, forgotten_digest, new_salt
from syncd.destinations import Mapping

BUILDER = ContactBuilder(Mapping.model_validate({"email": "E", "first_name": "F"}))
SALT = new_salt()
FORGOTTEN = ["ann@example.com", "kate@example.com", "zoe@bücher.example", "x_y%z@example.org"]
KNOWN = Forgotten(SALT, frozenset(forgotten_digest(SALT, address_key(a)) for a in FORGOTTEN))


def row(email: Any) -> list[Any]:
    assert BUILDER.columns == ("E", "F")
    return [email, "Ann"]


def test_an_address_is_recognised_as_rows_key_it() -> None:
    dropped = BUILDER.forgotten_check(KNOWN)
    assert dropped is not None
    for written in (" Ann@Example.COM ", "ann@example.com", "zoe@BÜCHER.example"):
        assert dropped(row(written)), written
        keyed = BUILDER.key(row(written))
        assert not isinstance(keyed, str)
        assert KNOWN.holds(keyed[0])
    for other in ("bob@example.com", "ann@example.co", "ann@xn--example", None, 42, ""):
        assert not dropped(row(other)), other
    # The Kelvin sign would lower-case into another address: such a row is refused, not
    # taken for the address it resembles.
    assert not dropped(row("\u212aate@example.com"))


def test_nothing_forgotten_costs_no_check() -> None:
    assert BUILDER.forgotten_check(Forgotten()) is None


@given(
    st.one_of(
        st.text(max_size=30),
        st.sampled_from([*FORGOTTEN, " ANN@example.com", "Zoe@bücher.example "]),
        st.integers(),
        st.none(),
    )
)
def test_the_row_check_agrees_with_keying_then_looking_up(email: Any) -> None:
    dropped = BUILDER.forgotten_check(KNOWN)
    assert dropped is not None
    key = BUILDER.email_key(row(email))
    assert dropped(row(email)) == (key is not None and KNOWN.holds(key))
