from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from syncd.sendgrid import MAX_BODY_BYTES, Packer, upsert_body

LIST = "7f3c2a9e-1b4d-4c8e-9a52-3e6f0b1d2c4a"


def pack(sizes: list[int], **limits: int) -> list[list[bytes]]:
    packer = Packer(LIST, **limits)
    batches: list[list[bytes]] = [[]]
    for n, size in enumerate(sizes):
        item = b'"' + str(n).encode().rjust(size - 2, b"x") + b'"'
        if not packer.fits(len(item)):
            batches.append([])
            packer.reset()
        packer.add(len(item))
        batches[-1].append(item)
    return [b for b in batches if b]


def test_the_body_is_valid_json_with_the_list_and_contacts() -> None:
    body = upsert_body(LIST, [b'{"email":"a@b.co"}', b'{"email":"c@d.co"}'])
    assert orjson.loads(body) == {
        "list_ids": [LIST],
        "contacts": [{"email": "a@b.co"}, {"email": "c@d.co"}],
    }


def test_a_batch_closes_at_the_contact_limit() -> None:
    batches = pack([20] * 25, max_contacts=10)
    assert [len(b) for b in batches] == [10, 10, 5]


@given(st.lists(st.integers(min_value=10, max_value=400), min_size=1, max_size=300))
def test_every_body_fits_the_byte_limit_and_packing_reaches_the_floor(sizes: list[int]) -> None:
    limit = 2_000
    batches = pack(sizes, max_bytes=limit)
    bodies = [upsert_body(LIST, batch) for batch in batches]
    assert all(len(body) <= limit for body in bodies)
    assert sum(len(batch) for batch in batches) == len(sizes)
    # Greedy packing closes a batch only when the next item does not fit, so every
    # batch but the last is fuller than room - largest item: near the ⌈bytes/room⌉ floor.
    room = limit - len(upsert_body(LIST, []))
    assert len(batches) <= 1 + (sum(sizes) + len(sizes)) // (room - max(sizes) - 1)


def test_the_default_byte_limit_is_six_million() -> None:
    assert MAX_BODY_BYTES == 6_000_000
