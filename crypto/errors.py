"""Why a sealed file cannot be written or read.

    CryptoError
     ├── NoMasterKey      no master key configured at all (no key file, no DUNLINE_MASTER_KEY)
     ├── KeyMissing       a file's data key is wrapped by a master key id the keyring does not hold
     ├── WrongKey         the master key of that id does not open the file (another key, or an altered header)
     ├── SealedFileError  not a sealed file, truncated, or a chunk that fails its tag (tampered)
     └── SealedValueError a personal column's value not sealed, or failing its tag (crypto.columns)

Each message names the key id or the file, never key material.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base of every error of this package."""


class NoMasterKey(CryptoError):
    pass


class KeyMissing(CryptoError):
    def __init__(self, key_id: str) -> None:
        super().__init__(f"master key {key_id!r} is not configured (key file or DUNLINE_MASTER_KEY)")
        self.key_id = key_id


class WrongKey(CryptoError):
    def __init__(self, key_id: str, what: str) -> None:
        super().__init__(f"master key {key_id!r} does not open {what}: a different key under that id, or the "
                         "file's header was altered")
        self.key_id = key_id


class SealedFileError(CryptoError):
    pass


class SealedValueError(CryptoError):
    """A personal column's value is not sealed, or fails its tag (another column key, or altered)."""
