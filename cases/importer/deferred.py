"""Secondary indexes a large SQLite import does not read, dropped for the load and built again before it commits.

Every imported row costs an insert into each index of the tables it writes (accounts have seven), and the random
ones (balance, due date, a sealed phone number) cost the most. Built once over the loaded table they cost about a
third as much (`bench/import_cases.py`). That pays only when the load is at least as large as what the table
holds, so smaller imports keep their indexes. The indexes kept are the unique ones (they enforce the upsert's
keys and serve its lookups) and those on `debtor_id`, which the load looks up (a debtor's phones and addresses).

All inside the import's transaction: a failed, rolled back or killed import leaves the indexes as they were, and
readers (WAL) see them throughout. Each index is rebuilt from its own stored definition (`sqlite_master`), so it
comes back exactly as the migrations made it. PostgreSQL is left alone: DROP INDEX there locks the table against
every reader (the dialer's hopper) until the import commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table, bindparam, func, select, text

LOOKED_UP = frozenset({"debtor_id"})  # columns the import queries by, besides the unique keys


class DeferredIndexes:
    def __init__(self, definitions: Sequence[tuple[str, str]]) -> None:
        self.definitions = list(definitions)  # (name, CREATE INDEX statement), dropped until `build`

    @classmethod
    def drop_for(cls, connection: Connection, tables: Sequence[Table], rows: int | None, largest: Table) -> DeferredIndexes:
        """The deferrable indexes of `tables`, dropped when `rows` (the file's) are at least as many as `largest`
        holds (accounts: its highest id, one lookup where a count would read a whole index; gaps left by deleted
        rows only make it keep its indexes sooner); else none."""
        if connection.dialect.name != "sqlite" or rows is None:
            return cls([])
        held = connection.execute(select(func.max(largest.c.id))).scalar_one() or 0
        if rows < held:
            return cls([])
        names = [index.name for table in tables for index in table.indexes
                 if not index.unique and not {column.name for column in index.columns} & LOOKED_UP]
        definitions = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN :names")
            .bindparams(bindparam("names", expanding=True)), {"names": names}).all()
        for name, _ in definitions:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        return cls([(name, sql) for name, sql in definitions])

    def build(self, connection: Connection) -> None:
        """The dropped indexes made again over the loaded tables, before the import commits."""
        for _, sql in self.definitions:
            connection.exec_driver_sql(sql)
        self.definitions = []
