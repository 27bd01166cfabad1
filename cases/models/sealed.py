"""Column types for personal data: the value sealed (crypto.columns) on its way into the database and opened on
its way out, so the file, a dump or a backup holds no national ID, phone number, e-mail, address or date of
birth in clear, while every query still compares plain values in Python and sealed ones in SQL.

The cipher comes from the engine (`cases.columns.SealedColumns`, set on its dialect by `Store`): an engine
without one, or one whose master key is missing, cannot write or read a personal value at all (NoMasterKey)
rather than write it in clear. NULL stays NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import String, TypeDecorator

from crypto import ColumnCipher, NoMasterKey

DIALECT_ATTRIBUTE = "dunline_sealed_columns"


def cipher_of(dialect: Any) -> ColumnCipher:
    columns = getattr(dialect, DIALECT_ATTRIBUTE, None)
    if columns is None:
        raise NoMasterKey("this database connection has no column key: open the case store with its master keys "
                          "(cases.Store(url, keys=...)) to read or write personal data")
    cipher: ColumnCipher = columns.cipher()
    return cipher


class SealedString(TypeDecorator[str]):
    """Text sealed in its column. `length` is the longest plain value accepted (the importer checks it); the
    column itself is an unbounded VARCHAR, as the sealed text is longer."""

    impl = String
    cache_ok = True

    def __init__(self, length: int | None = None) -> None:
        super().__init__()
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else cipher_of(dialect).seal(value)

    def seal_column(self, cipher: ColumnCipher, values: Sequence[str]) -> list[str]:
        """Values (never None) as the column stores them, under `cipher`, in their order: a bulk writer's
        conversion, one call for a batch's column rather than a processor's layers per value."""
        return cipher.seal_all(values)  # type: ignore[return-value]  # no None in, none out

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else cipher_of(dialect).open(value)


class SealedDate(TypeDecorator[date]):
    """A date sealed as its ISO text."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: date | None, dialect: Any) -> str | None:
        return None if value is None else cipher_of(dialect).seal(value.isoformat())

    def seal_column(self, cipher: ColumnCipher, values: Sequence[date]) -> list[str]:
        """As SealedString.seal_column."""
        return cipher.seal_all([value.isoformat() for value in values])  # type: ignore[return-value]

    def process_result_value(self, value: str | None, dialect: Any) -> date | None:
        return None if value is None else date.fromisoformat(cipher_of(dialect).open(value))
