"""The case store's column key at run time: unwrapped once per process from its row (`ColumnKey`) with the
master keys, and handed to the sealed column types (cases.models.sealed) through the engine's dialect.

`ensure` makes the key on a fresh database (`dunline db upgrade`, `migrate.upgrade`); `rewrap` moves it to the
current master key (`dunline keys rotate`) in one UPDATE, so running processes keep working: the data key they
hold does not change, only what wraps it.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection, Engine, select, update

from cases.models.base import utcnow
from cases.models.column_key import ColumnKey
from cases.models.sealed import DIALECT_ATTRIBUTE
from crypto import (
    ColumnCipher,
    MasterKeys,
    NoMasterKey,
    WrappedColumnKey,
    ensure_key_file,
    new_column_key,
    unwrap_column_key,
    wrap_column_key,
)


class SealedColumns:
    def __init__(self, engine: Engine, keys: MasterKeys | None) -> None:
        """`engine`: one that reads without taking SQLite's write lock (the key is first read in the middle of
        whatever transaction first touches a personal column)."""
        self.engine, self.keys = engine, keys
        self._cipher: ColumnCipher | None = None
        self._lock = threading.Lock()

    def install(self) -> None:
        setattr(self.engine.dialect, DIALECT_ATTRIBUTE, self)

    def cipher(self) -> ColumnCipher:
        if self._cipher is None:
            with self._lock:
                if self._cipher is None:
                    with self.engine.connect() as connection:
                        self._cipher = ColumnCipher(self._unwrap(_stored(connection)))
        return self._cipher

    def ensure(self, connection: Connection) -> ColumnCipher:
        """The column key, made (and the key file, when the keys live in one) if the database has none."""
        if (stored := _stored_or_none(connection)) is not None:
            self._cipher = ColumnCipher(self._unwrap(stored))
            return self._cipher
        keys = self._require_keys()
        if not keys.from_environment:
            ensure_key_file(keys.path)
        data_key, wrapped = new_column_key(keys.require())
        connection.execute(ColumnKey.__table__.insert().values(
            id=1, master_key_id=wrapped.key_id, nonce=wrapped.nonce, wrapped=wrapped.wrapped, created_at=utcnow()))
        self._cipher = ColumnCipher(data_key)
        return self._cipher

    def forget(self) -> None:
        """Drop the data key held: the database's was removed (a downgrade past the sealing)."""
        self._cipher = None

    def rewrap(self, connection: Connection) -> str | None:
        """Wrap the column key with the current master key; the id of the key that wrapped it before, or None
        when it already was the current one."""
        stored = _stored(connection)
        keyring = self._require_keys().require()
        if stored.key_id == keyring.current.id:
            return None
        wrapped = wrap_column_key(keyring, self._unwrap(stored))
        connection.execute(update(ColumnKey).where(ColumnKey.id == 1).values(
            master_key_id=wrapped.key_id, nonce=wrapped.nonce, wrapped=wrapped.wrapped, rewrapped_at=utcnow()))
        return stored.key_id

    def _unwrap(self, stored: WrappedColumnKey) -> bytes:
        return unwrap_column_key(self._require_keys().require(), stored)

    def _require_keys(self) -> MasterKeys:
        if self.keys is None:
            raise NoMasterKey("the case store was opened without master keys: personal columns stay sealed")
        return self.keys


def wrapping_key_id(connection: Connection) -> str | None:
    """The master key the column key is wrapped by (None on a database without one)."""
    stored = _stored_or_none(connection)
    return None if stored is None else stored.key_id


def _stored(connection: Connection) -> WrappedColumnKey:
    if (stored := _stored_or_none(connection)) is None:
        raise NoMasterKey("the database has no column key: run `dunline db upgrade`")
    return stored


def _stored_or_none(connection: Connection) -> WrappedColumnKey | None:
    row = connection.execute(select(ColumnKey.master_key_id, ColumnKey.nonce, ColumnKey.wrapped)
                             .where(ColumnKey.id == 1)).first()
    return None if row is None else WrappedColumnKey(row.master_key_id, bytes(row.nonce), bytes(row.wrapped))
