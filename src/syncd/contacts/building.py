"""The first two stages: every row keyed, changed rows built into name-keyed payloads."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import xxhash

from syncd.contacts import one_value
from syncd.contacts.addresses import address_key
from syncd.contacts.fingerprints import SIGN, WRAP, fingerprint
from syncd.contacts.forgotten import HASH, Forgotten
from syncd.contacts.held import HeldPrints
from syncd.contacts.one_value import NotOneValue
from syncd.contacts.values import Refused, control_character
from syncd.destinations import Mapping as FieldMapping

# SendGrid's maxLength per reserved field (ContactRequest in the contacts spec);
# postal_code has none.
FIELD_LIMITS: Mapping[str, int | None] = {
    "email": 254,
    "first_name": 50,
    "last_name": 50,
    "address_line_1": 100,
    "address_line_2": 100,
    "city": 60,
    "state_province_region": 50,
    "postal_code": None,
    "country": 50,
}
# C0 and C1 controls include ESC and CSI, which start terminal escape sequences; they
# would reach SendGrid, and every screen and template that shows the value, as they are.
# Refused rather than stripped: stripping would send a value the source does not hold.
NOT_SENT = "syncd does not send control characters: remove it from the source"
# A control character in a value shows in its JSON as an escape (\n, \u001b), or raw (DEL,
# C1, and U+2028-U+202E, U+2066-U+2069 as UTF-8): one scan of a built payload tells
# whether its values need a closer look.
_MAYBE_CONTROL = re.compile(
    rb"\\[bfnrtu]|\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]"
)
_CANNOT_START = bytes(set(range(256)) - set(b"\\\x7f\xc2\xe2"))


@dataclass(frozen=True, slots=True)
class Built:
    email: str
    payload: bytes
    fingerprint: int
    fields: Mapping[str, Any] = dataclasses.field(compare=False)
    """The payload before it was encoded: what `Outgoing.encode_fields` takes, so that a
    contact encoded as soon as it is built is not decoded again (equal to the payload's
    bytes decoded: left out of comparisons)."""


NO_EMAIL = "email is empty"
"""Why a row without an address is refused."""


def refuses_the_address(reason: str) -> bool:
    """Whether a refusal is of the address itself, which only a corrected address gets
    sent (as another contact), whatever the row's other values become. Every such reason,
    here and in `addresses`, names the field `email` first; no other reason does."""
    return reason.startswith("email ")


class ContactBuilder(HeldPrints):
    """Compiled once per run from the mapping; `build` is called per row."""

    def __init__(self, mapping: FieldMapping) -> None:
        reserved = mapping.reserved()
        columns: list[str] = []
        for column in [*reserved.values(), *mapping.custom_fields.values()]:
            if column not in columns:
                columns.append(column)
        self.columns: tuple[str, ...] = tuple(columns)
        index = {column: i for i, column in enumerate(columns)}
        self._email = index[reserved["email"]]
        self.email_column = reserved["email"]
        self._reserved = tuple(
            (field, index[column], FIELD_LIMITS[field])
            for field, column in reserved.items()
            if field != "email"
        )
        self._custom = tuple(
            (name, index[column]) for name, column in mapping.custom_fields.items()
        )
        # The raw fingerprint depends on which column feeds which field, so a mapping
        # change makes every row stale (rebuilt, and re-sent only if its payload changed).
        described = orjson.dumps([sorted(reserved.items()), sorted(mapping.custom_fields.items())])
        self._seed = xxhash.xxh3_64_intdigest(described)

    @property
    def seed(self) -> int:
        """What every source fingerprint is hashed under: the mapping's columns."""
        return self._seed

    def key(self, values: list[Any], raw: int | None = None) -> tuple[str, int, bytes] | str:
        """(email, raw fingerprint, encoded values) for one row, or why it is refused.

        The raw fingerprint is that of the encoded values, or `raw` (unsigned) when the
        source printed the row itself (a CSV record: `sources.csvfile`). The email is only
        keyed here (`address_key`: for an ASCII address, trimmed and lower-cased); `build`
        and `Outgoing.encode` check the rest. Never raises."""
        email = values[self._email]
        if type(email) is not str:
            try:
                email = _text(email)
            except NotOneValue:
                return one_value.refusal("email")
        if email.isascii():
            email = email.strip().lower()
        else:
            try:
                email = address_key(email)
            except Refused as refused:
                return str(refused)
        if not email:
            return NO_EMAIL
        try:
            encoded = compact(orjson.dumps(values, default=str))
        except TypeError:  # orjson.JSONEncodeError: rare values; see `_writable`
            try:
                encoded = compact(orjson.dumps(_writable(values, self.columns), default=str))
            except Refused as refused:
                return str(refused)
        if raw is None:
            raw = xxhash.xxh3_64_intdigest(encoded, self._seed)
        return email, raw - WRAP if raw >= SIGN else raw, encoded

    def email_key(self, values: list[Any]) -> str | None:
        """The row's key as `key` computes it, or None for a row `key` refuses for its
        address (such a row is never sent)."""
        email = values[self._email]
        if type(email) is not str:
            try:
                email = _text(email)
            except NotOneValue:
                return None
        if email.isascii():
            return email.strip().lower()
        try:
            return address_key(email)
        except Refused:
            return None

    def forgotten_check(self, forgotten: Forgotten) -> Callable[[list[Any]], bool] | None:
        """Whether a row's address is forgotten (`syncd forget`), for rows only `raw_print`
        fingerprints; None when nothing is (the caller's one comparison a row). Everything
        is bound in one closure: it runs on every row while anything is forgotten, at half
        the cost of `email_key` then `Forgotten.holds`."""
        if not forgotten:
            return None
        at, key, seed, digests = self._email, self.email_key, forgotten.seed, forgotten.digests

        def dropped(values: list[Any]) -> bool:
            email = values[at]
            if type(email) is str and email.isascii():  # `key`'s plain case
                return HASH(email.strip().lower().encode(), seed) in digests
            keyed = key(values)
            return keyed is not None and HASH(keyed.encode(), seed) in digests

        return dropped

    def raw_print(self, values: list[Any], raw: int | None = None) -> int | None:
        """`key`'s fingerprint alone (unsigned), or None for a row without an email: the
        least a row can cost, for checking that nothing changed."""
        if raw is not None:
            return None if _blank(values[self._email]) else raw
        printed = self.raw_encoded(values)
        return None if printed is None else printed[0]

    def raw_encoded(
        self, values: list[Any], raw: int | None = None
    ) -> tuple[int, bytes | None] | None:
        """`raw_print`, with the values encoded as `key` encodes them (None for a row
        orjson cannot write as it is: `key` handles it)."""
        if _blank(values[self._email]):
            return None
        try:
            encoded = orjson.dumps(values, default=str)
        except TypeError:
            keyed = self.key(values, raw)
            # A row `key` refuses still counts: the sums then differ from those of the
            # acknowledged state, and staging reports the row with its reason.
            return (0 if isinstance(keyed, str) else keyed[1] % WRAP), None
        if raw is None:
            raw = xxhash.xxh3_64_intdigest(encoded, self._seed)
        return raw, encoded

    def build_encoded(self, encoded: bytes) -> Built | str:
        """`build` on values as `key` encoded them."""
        values: list[Any] = orjson.loads(encoded)
        return self.build(values)

    def build(self, values: Sequence[Any]) -> Built | str:
        """The contact for one row, or the reason the row is rejected. Never raises."""
        try:
            return self._build(values)
        except NotOneValue:
            return one_value.refusal(self._not_one_value(values))

    def _not_one_value(self, values: Sequence[Any]) -> str:
        """The first field whose value is not one value (`_text` refused it)."""
        fields = [("email", self._email), *((f, i) for f, i, _ in self._reserved)]
        for field, i in [*fields, *((f"custom field {n}", i) for n, i in self._custom)]:
            if one_value.is_many(values[i]):
                return field
        return "a field"

    def _build(self, values: Sequence[Any]) -> Built | str:
        email = _text(values[self._email])
        if email.isascii():
            email = email.lower()
        else:
            try:
                email = address_key(email)
            except Refused as refused:
                return str(refused)
        if not email:
            return NO_EMAIL
        if len(email) > 254:
            return "email is longer than 254 characters"
        if "@" not in email:
            return "email is not a valid address: no @"
        payload: dict[str, Any] = {"email": email}
        for field, i, limit in self._reserved:
            value = _text(values[i])
            if not value:
                continue
            if limit is not None and len(value) > limit:
                return f"{field} is longer than {limit} characters ({len(value)})"
            payload[field] = value
        if self._custom:
            custom = {name: value for name, i in self._custom if (value := _text(values[i]))}
            if custom:
                payload["custom_fields"] = custom
        try:
            encoded = compact(orjson.dumps(payload))
        except TypeError:  # text with a lone surrogate, only from a caller other than `key`
            return "a value is not valid Unicode text (it holds a lone surrogate)"
        if _may_hold_control(encoded):
            reason = _control_refusal(payload)
            if reason is not None:
                return reason
        return Built(email, encoded, fingerprint(encoded), payload)


def _blank(email: Any) -> bool:
    """No address at all: the row is refused before anything is encoded."""
    if one_value.is_many(email):
        return False  # `key` refuses it, saying why
    return email is None or not (email if type(email) is str else _text(email)).strip()


def _may_hold_control(encoded: bytes) -> bool:
    # One pass in C deletes every byte that cannot start a match (the pattern itself
    # scans several times slower): most payloads are left with nothing.
    return bool(encoded.translate(None, _CANNOT_START)) and bool(_MAYBE_CONTROL.search(encoded))


def _control_refusal(payload: Mapping[str, Any]) -> str | None:
    """Why a value of `payload` is refused for a control character, or None. The email's
    own characters are `Outgoing.encode`'s to check (with email-validator's reasons)."""
    for field, value in payload.items():
        if field not in ("email", "custom_fields") and (found := control_character(value)):
            return f"{field} contains a control character {found}; {NOT_SENT}"
    for name, value in payload.get("custom_fields", {}).items():
        if found := control_character(value, lines=True):
            return f"custom field {name} contains a control character {found}; {NOT_SENT}"
    return None


def compact(encoded: bytes) -> bytes:
    """A copy of exactly its length. An `orjson.dumps` result keeps a ≈ 4 KB allocation
    however short it is, and these are held by the ten thousand (a staging chunk, a
    batch of 30,000): 118 MB instead of 6 MB for a batch."""
    return bytes(memoryview(encoded))


def _writable(values: list[Any], columns: Sequence[str]) -> list[Any]:
    """`values` with what orjson cannot write made writable, for the rare row it refused:
    an integer beyond 64 bits (or a container holding one) as its text, which a Number
    field then refuses and a Text field takes; text that is not Unicode refused."""
    writable = []
    for column, value in zip(columns, values, strict=True):
        try:
            orjson.dumps(value, default=str)
        except TypeError:
            if isinstance(value, str):
                raise Refused(
                    f"column {column}: text that is not valid Unicode (a lone surrogate)"
                ) from None
            # A list or object orjson cannot write (nested past its depth) stays one: its
            # field refuses it rather than sending Python's spelling of it.
            value = [str(value)] if one_value.is_many(value) else str(value)
        writable.append(value)
    return writable


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if one_value.is_many(value):
        raise NotOneValue
    return str(value).strip()
