"""Personal data in database columns: sealed deterministically with AES-SIV (RFC 5297) under one column data key,
which the master key wraps (as it wraps each sealed file's data key) and which lives in the database wrapped.

Why deterministic: a lookup must stay one indexed query (an inbound caller's number finds its phones, a DNC
number its holds, a national ID its debtor) and unique constraints must still hold. AES-SIV's synthetic IV is a
keyed PRF of the value (S2V over AES-CMAC), and it leads the stored text, so the sealed value *is* the keyed hash
it is searched by: equal values seal alike and `WHERE e164 = :number` binds the sealed number. It tells which
rows share a value (as a keyed hash beside the value would) and nothing of the value without the key.

A master-key rotation re-wraps the one column data key: no row is rewritten, no lookup changes.

Stored text: `s1:` + URL-safe base64, unpadded, of the 16-byte SIV and the ciphertext.
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from crypto.batch_siv import BatchSiv
from crypto.errors import SealedValueError
from crypto.keys import Keyring

PREFIX = "s1:"
DATA_KEY_BYTES = 64  # AES-256-SIV: a MAC key and an encryption key
SIV_BYTES = 16
_WRAP_CONTEXT = b"dunline column data key v1"
# URL-safe base64 by binascii and a byte translation: base64.urlsafe_b64* do the same through several layers of
# Python calls, which cost a third of an open (the AES-SIV call itself is about 1 us).
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# Deleted by the same translation: the padding (base64 has "=" nowhere else) and b2a_base64's newline, which
# costs less to drop than a keyword argument costs to parse.
_UNPADDED = b"=\n"
_PREFIX_BYTES = PREFIX.encode("ascii")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"===", b"==", b"=")  # by the unpadded text's length modulo 4
_PREFIX_CHARS = len(PREFIX)
_from_base64 = binascii.a2b_base64
_to_base64 = binascii.b2a_base64


def is_sealed_value(text: str) -> bool:
    return text.startswith(PREFIX)


def _text(raw: bytes) -> str:
    return _to_base64(raw).translate(_TO_URLSAFE, _UNPADDED).decode("ascii")


def _texts(raws: list[bytes], prefix: bytes) -> list[str]:
    """`prefix` + `_text(raw)` for each of `raws`, translated and decoded once for them all: b2a_base64 ends each
    with a newline, which then splits them (it appears nowhere else in base64)."""
    joined = prefix + prefix.join(map(_to_base64, raws))  # "s1:A\ns1:B\n": one more prefix than values
    return joined.translate(_TO_URLSAFE, b"=").decode("ascii").split("\n")[:-1]


class ColumnCipher:
    """Seals and opens column values under one data key; safe to share between threads."""

    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError(f"a column data key is {DATA_KEY_BYTES} bytes, not {len(data_key)}")
        siv = AESSIV(data_key)
        self._encrypt, self._decrypt = siv.encrypt, siv.decrypt
        self._encrypt_all = BatchSiv(data_key).encrypt_all

    def __repr__(self) -> str:  # never the key
        return "ColumnCipher()"

    def seal(self, value: str) -> str:
        return PREFIX + _text(self._encrypt(value.encode(), None))

    def seal_all(self, values: Iterable[str | None]) -> list[str | None]:
        """`seal` over a column of values (None stays None): the same text as `seal` gives each. A bulk import
        seals ~4.5 values a row, so the column is sealed at once (BatchSiv) and the base64's translation and
        decoding done once for all (`_texts`)."""
        values = list(values)
        sealed = _texts(self._encrypt_all([value.encode() for value in values if value is not None]), _PREFIX_BYTES)
        if None not in values:
            return sealed  # type: ignore[return-value]  # list is invariant
        texts = iter(sealed)
        return [None if value is None else next(texts) for value in values]

    def token(self, value: str) -> str:
        """The value's keyed PRF alone (the SIV its sealing starts with): a short stable reference made from
        personal data that reveals none of it (a debtor filed under a national ID)."""
        return _text(self._encrypt(value.encode(), None)[:SIV_BYTES])

    def seal_with_tokens(self, values: Sequence[str]) -> tuple[list[str], list[str]]:
        """`[seal(v) for v in values], [token(v) for v in values]` from one AES-SIV pass a value: the token is
        the sealed value's own SIV."""
        raws = self._encrypt_all([value.encode() for value in values])
        return _texts(raws, _PREFIX_BYTES), _texts([raw[:SIV_BYTES] for raw in raws], b"")

    def open(self, stored: str) -> str:
        if stored[:_PREFIX_CHARS] != PREFIX:  # a slice compare: cheaper than a method call, ~1,000 times a page
            raise SealedValueError("a personal column holds a value that is not sealed (written without the "
                                   "column key, or altered)")
        try:
            body = stored[_PREFIX_CHARS:].encode("ascii")
            return self._decrypt(_from_base64(body.translate(_FROM_URLSAFE) + _PADDING[len(body) % 4]), None).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise SealedValueError("a sealed column value fails its tag: another column key, or altered") from None


@dataclass(frozen=True, repr=False)
class WrappedColumnKey:
    key_id: str  # the master key that wraps it
    nonce: bytes
    wrapped: bytes


def new_column_key(keyring: Keyring) -> tuple[bytes, WrappedColumnKey]:
    data_key = secrets.token_bytes(DATA_KEY_BYTES)
    return data_key, wrap_column_key(keyring, data_key)


def wrap_column_key(keyring: Keyring, data_key: bytes) -> WrappedColumnKey:
    return WrappedColumnKey(*keyring.wrap(data_key, _WRAP_CONTEXT))


def unwrap_column_key(keyring: Keyring, wrapped: WrappedColumnKey) -> bytes:
    return keyring.unwrap(wrapped.key_id, wrapped.nonce, wrapped.wrapped, _WRAP_CONTEXT, "the column data key")
