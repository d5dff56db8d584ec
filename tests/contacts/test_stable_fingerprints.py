"""What an upgrade must not change: fingerprints and bytes of rows whose meaning did not change.

The ledgers of running installations hold these fingerprints: a change to any figure below
re-sends every contact of every destination. The figures were taken from the release
before values were typed as SendGrid takes them; a row here uses only values whose
meaning that change kept (dates already written MM/DD/YYYY, no blank Number or Date).
"""

from __future__ import annotations

from typing import Any

import pytest

from syncd.contacts import Built, ContactBuilder, CustomField, FieldBinding, Outgoing, bind_fields
from syncd.destinations import Mapping

MAPPING = Mapping.model_validate(
    {
        "email": "Email",
        "first_name": "First",
        "last_name": "Last",
        "city": "City",
        "postal_code": "Zip",
        "custom_fields": {
            "loyalty_tier": "Tier",
            "orders": "Orders",
            "joined": "Joined",
            "score": "Score",
        },
    }
)
FIELDS = {
    "loyalty_tier": CustomField("e1_T", "Text"),
    "orders": CustomField("e2_N", "Number"),
    "joined": CustomField("e3_D", "Date"),
    "score": CustomField("e4_N", "Number"),
}

# (source row, key, raw fingerprint, staged payload, its fingerprint, bytes sent)
ROWS: list[tuple[list[Any], str, int, bytes, int, bytes]] = [
    (
        [" Ann.Lee@Example.COM ", "Ann", "Lee", "Oslo", "0150", "gold", "3", "01/31/2024", "4.5"],
        "ann.lee@example.com",
        7406710884592067408,
        b'{"email":"ann.lee@example.com","first_name":"Ann","last_name":"Lee","city":"Oslo",'
        b'"postal_code":"0150","custom_fields":{"loyalty_tier":"gold","orders":"3",'
        b'"joined":"01/31/2024","score":"4.5"}}',
        4598984685554754175,
        b'{"first_name":"Ann","last_name":"Lee","city":"Oslo","postal_code":"0150",'
        b'"email":"ann.lee@example.com","custom_fields":{"e1_T":"gold","e2_N":3,'
        b'"e3_D":"01/31/2024","e4_N":4.5}}',
    ),
    (
        ["bob@example.org", "Bob", "", None, "  ", "", "-12", "12/01/1999", "1e3"],
        "bob@example.org",
        550383758846906024,
        b'{"email":"bob@example.org","first_name":"Bob","custom_fields":{"orders":"-12",'
        b'"joined":"12/01/1999","score":"1e3"}}',
        6166158243156934560,
        b'{"first_name":"Bob","last_name":"","city":"","postal_code":"",'
        b'"email":"bob@example.org","custom_fields":{"e1_T":"","e2_N":-12,'
        b'"e3_D":"12/01/1999","e4_N":1000.0}}',
    ),
    (
        [
            "o'neil+news@mail.example.net",
            "Seán",
            "O'Neil",
            "São Paulo",
            "01000-000",
            "platinum tier",
            "007",
            "02/29/2024",
            "3.0",
        ],
        "o'neil+news@mail.example.net",
        -2420106679922862786,
        b'{"email":"o\'neil+news@mail.example.net","first_name":"Se\xc3\xa1n",'
        b'"last_name":"O\'Neil","city":"S\xc3\xa3o Paulo","postal_code":"01000-000",'
        b'"custom_fields":{"loyalty_tier":"platinum tier","orders":"007",'
        b'"joined":"02/29/2024","score":"3.0"}}',
        3942518516049095949,
        b'{"first_name":"Se\xc3\xa1n","last_name":"O\'Neil","city":"S\xc3\xa3o Paulo",'
        b'"postal_code":"01000-000","email":"o\'neil+news@mail.example.net",'
        b'"custom_fields":{"e1_T":"platinum tier","e2_N":7,"e3_D":"02/29/2024","e4_N":3}}',
    ),
    (
        ["carla@example.com", 1, 2.5, True, 12345, "x", 42, "07/04/2021", 0.25],
        "carla@example.com",
        3411753599525265743,
        b'{"email":"carla@example.com","first_name":"1","last_name":"2.5","city":"true",'
        b'"postal_code":"12345","custom_fields":{"loyalty_tier":"x","orders":"42",'
        b'"joined":"07/04/2021","score":"0.25"}}',
        7040210154258019958,
        b'{"first_name":"1","last_name":"2.5","city":"true","postal_code":"12345",'
        b'"email":"carla@example.com","custom_fields":{"e1_T":"x","e2_N":42,'
        b'"e3_D":"07/04/2021","e4_N":0.25}}',
    ),
]


@pytest.mark.parametrize(
    ("row", "key", "raw", "payload", "fingerprint", "sent"), ROWS, ids=[r[1] for r in ROWS]
)
def test_a_row_whose_meaning_did_not_change_keeps_its_fingerprints_and_bytes(
    row: list[Any], key: str, raw: int, payload: bytes, fingerprint: int, sent: bytes
) -> None:
    builder = ContactBuilder(MAPPING)
    keyed = builder.key(list(row))
    assert not isinstance(keyed, str)
    assert keyed[:2] == (key, raw)
    assert builder.raw_print(list(row)) == raw & ((1 << 64) - 1)
    built = builder.build_encoded(keyed[2])
    assert isinstance(built, Built)
    assert (built.email, built.payload, built.fingerprint) == (key, payload, fingerprint)
    outgoing = Outgoing(bind_fields("L", list(FIELDS), FIELDS), MAPPING)
    assert outgoing.encode(payload) == sent
    assert outgoing.encode_fields(built.fields) == sent  # as a first export sends it


def test_a_binding_without_date_fields_keeps_its_digest() -> None:
    assert bind_fields("L", ["orders", "loyalty_tier"], FIELDS).digest == 4584706058880439258
    assert FieldBinding("L", {}).digest == 4584706058880439258
    assert FieldBinding("L", {}, 3).digest == 2878910802077699586
