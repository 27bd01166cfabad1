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

import base64
import binascii
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from crypto.errors import SealedValueError
from crypto.keys import Keyring

PREFIX = "s1:"
DATA_KEY_BYTES = 64  # AES-256-SIV: a MAC key and an encryption key
_WRAP_CONTEXT = b"dunline column data key v1"


def is_sealed_value(text: str) -> bool:
    return text.startswith(PREFIX)


class ColumnCipher:
    """Seals and opens column values under one data key; safe to share between threads."""

    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError(f"a column data key is {DATA_KEY_BYTES} bytes, not {len(data_key)}")
        self._siv = AESSIV(data_key)

    def __repr__(self) -> str:  # never the key
        return "ColumnCipher()"

    def seal(self, value: str) -> str:
        sealed = self._siv.encrypt(value.encode(), None)
        return PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def token(self, value: str) -> str:
        """The value's keyed PRF alone (the SIV its sealing starts with): a short stable reference made from
        personal data that reveals none of it (a debtor filed under a national ID)."""
        return base64.urlsafe_b64encode(self._siv.encrypt(value.encode(), None)[:16]).rstrip(b"=").decode("ascii")

    def open(self, stored: str) -> str:
        if not is_sealed_value(stored):
            raise SealedValueError("a personal column holds a value that is not sealed (written without the "
                                   "column key, or altered)")
        body = stored[len(PREFIX):]
        try:
            return self._siv.decrypt(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)), None).decode()
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
