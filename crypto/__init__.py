"""Encryption at rest: master keys (`keys`) and the sealed-file format (`sealed`). The ground floor: it imports
no other package of ours, so every layer above may seal or read."""

from crypto.errors import CryptoError, KeyMissing, NoMasterKey, SealedFileError, WrongKey
from crypto.keys import KEY_FILE, Keyring, MasterKey, MasterKeys, ensure_key_file
from crypto.sealed import (
    SealedReader,
    is_sealed,
    is_sealed_bytes,
    key_id_of,
    read_sealed,
    rewrap,
    seal_bytes,
    seal_file,
    seal_to_bytes,
    shred,
)

__all__ = ["KEY_FILE", "CryptoError", "KeyMissing", "Keyring", "MasterKey", "MasterKeys", "NoMasterKey",
           "SealedFileError", "SealedReader", "WrongKey", "ensure_key_file", "is_sealed", "is_sealed_bytes",
           "key_id_of", "read_sealed", "rewrap", "seal_bytes", "seal_file", "seal_to_bytes", "shred"]
