"""`column IN (a batch's keys)` bound as one parameter, for the importer's lookups of thousands of keys.

SQLAlchemy's expanding IN names and renders one parameter per value on every execution, which cost more than
the lookups themselves (about 4 us a key). One array (PostgreSQL's `= ANY`) or one JSON text (SQLite's
`json_each`) is a single parameter of a statement compiled once. Both still probe the column's index.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam, func, literal_column, select


def among(column: ColumnElement[Any], values: Collection[str | int], dialect: Any) -> ColumnElement[bool]:
    if dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values), ensure_ascii=False)))))
