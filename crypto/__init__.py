"""Encryption at rest: master keys (`keys`), the sealed-file format (`sealed`) and sealed column values
(`columns`). The ground floor: it imports no other package of ours, so every layer above may seal or read."""

from crypto.columns import ColumnCipher, WrappedColumnKey, new_column_key, unwrap_column_key, wrap_column_key
from crypto.errors import CryptoError, KeyMissing, NoMasterKey, SealedFileError, SealedValueError, WrongKey
from crypto.keys import KEY_FILE, Keyring, MasterKey, MasterKeys, ensure_key_file
from crypto.sealed import (
    SealedReader,
    SealedWriter,
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

__all__ = ["KEY_FILE", "ColumnCipher", "CryptoError", "KeyMissing", "Keyring", "MasterKey", "MasterKeys",
           "NoMasterKey", "SealedFileError", "SealedReader", "SealedValueError", "SealedWriter", "WrappedColumnKey",
           "WrongKey",
           "ensure_key_file", "is_sealed", "is_sealed_bytes", "key_id_of", "new_column_key", "read_sealed", "rewrap",
           "seal_bytes", "seal_file", "seal_to_bytes", "shred", "unwrap_column_key", "wrap_column_key"]
