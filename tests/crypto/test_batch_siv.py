"""BatchSiv seals a column as AES-SIV (cryptography's AESSIV, no associated data) seals each value alone: every
length from empty to several blocks (whole and padded last blocks, both sides of one block), groups large enough
to take the array path and small ones that do not, mixed in one call, under more than one key."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from crypto.batch_siv import SMALL_GROUP, BatchSiv

LENGTHS = range(0, 100)  # up to six blocks, each length in a group


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_column_sealed_at_once_is_aes_siv_of_each_value(seed: int) -> None:
    chance = random.Random(seed)
    key = chance.randbytes(64)
    values = [chance.randbytes(length) for length in LENGTHS for _ in range(SMALL_GROUP + chance.randrange(4))]
    long = [*range(100, 1400, 37), 1279, 1280, 1281]  # a 320-character column in UTF-8: up to ~1,300 bytes
    values += [chance.randbytes(length) for length in long for _ in range(SMALL_GROUP)]
    values += [chance.randbytes(chance.randrange(100, 1300)) for _ in range(40)]  # few of a length: value by value
    chance.shuffle(values)
    one = AESSIV(key).encrypt
    assert BatchSiv(key).encrypt_all(values) == [one(value, None) for value in values]


def test_values_that_share_a_prefix_or_differ_in_one_bit_seal_apart() -> None:
    key = bytes(range(64))
    values = [b"+8613812345678"] * SMALL_GROUP + [b"+8613812345679"] * SMALL_GROUP
    sealed = BatchSiv(key).encrypt_all(values)
    one = AESSIV(key).encrypt
    assert sealed == [one(value, None) for value in values]
    assert len(set(sealed)) == 2


def test_the_key_must_be_aes_256_siv() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        BatchSiv(bytes(32))
    assert BatchSiv(bytes(64)).encrypt_all([]) == []
    assert "\\x00" not in repr(BatchSiv(bytes(64)))
