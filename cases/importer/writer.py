"""New rows of an import through each driver's bulk path: COPY on PostgreSQL, executemany on SQLite.

Rows come as tuples in the writer's column order. Each column's own bind processor (the conversion
SQLAlchemy would apply: UTC datetimes, enum values, decimals) runs over the column at once; a sealed column's
values go through the column cipher's batch seal (`ColumnCipher.seal_all`), the cipher fetched for each batch
(the key of a database may change between imports, never within one). The driver then gets plain tuples. SQLite's executemany prepares its one statement once per batch; PostgreSQL's
COPY streams the batch in one round trip and writes it as the INSERT it replaces would, inside the
import's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import Connection, Table

from cases.models.sealed import SealedDate, SealedString, cipher_of


class TableWriter:
    def __init__(self, connection: Connection, table: Table, columns: Sequence[str],
                 converted: frozenset[str] = frozenset()) -> None:
        """`converted`: columns whose values come already as their processor would make them (a national ID
        sealed by the importer, which needed its token from the same AES-SIV pass)."""
        dialect = connection.dialect
        self.columns = tuple(columns)
        self.processors = [None if name in converted else
                           table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self.columns]
        self.sealed = {i: table.c[name].type for i, name in enumerate(self.columns)
                       if name not in converted and isinstance(table.c[name].type, (SealedString, SealedDate))}
        self.copy = dialect.name == "postgresql"
        target = (f"{dialect.identifier_preparer.format_table(table)} "
                  f"({', '.join(dialect.identifier_preparer.quote(name) for name in self.columns)})")
        if self.copy:
            self.sql = f"COPY {target} FROM STDIN"
        else:
            assert dialect.paramstyle == "qmark", dialect.paramstyle  # SQLite's
            self.sql = f"INSERT INTO {target} VALUES ({', '.join('?' * len(self.columns))})"

    def write(self, connection: Connection, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        converts: list[Callable[[list[Any]], list[Any]] | None] = [
            None if process is None else partial(_each, process) for process in self.processors]
        if self.sealed:
            cipher = cipher_of(connection.dialect)
            for i, kind in self.sealed.items():
                converts[i] = partial(kind.seal_column, cipher)
        if any(converts):
            rows = list(zip(*(values if convert is None else _converted(convert, values)
                              for convert, values in zip(converts, zip(*rows)))))
        if self.copy:
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(self.sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            connection.exec_driver_sql(self.sql, rows)  # type: ignore[arg-type]


def _each(process: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    return list(map(process, values))


def _converted(convert: Callable[[list[Any]], list[Any]], values: tuple[Any, ...]) -> list[Any]:
    """`convert` over a column's distinct values at once (one call: a sealed column's go through the cipher's
    batch), each value then looked up: most converted columns repeat a few values (enums, flags, the batch's
    timestamp), and even personal ones some (dates of birth). None stays None."""
    distinct = set(values)
    distinct.discard(None)
    done = dict(zip(distinct, convert(list(distinct))))
    done[None] = None
    return list(map(done.__getitem__, values))
