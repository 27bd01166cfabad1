"""One grouped aggregate query shape for every report: rows keyed by (period, group), measures summed in SQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, FromClause, select
from sqlalchemy.sql.expression import ColumnElement

from campaigns.reports.grouping import Window, period_start


@dataclass(frozen=True)
class Grouping:
    """A grouping's column for a window (most ignore it; a DPD bucket is counted on the window's last day) and the
    joins (from the source's table) that reach it."""

    key: Callable[[Window], ColumnElement[Any]]
    join: Callable[[FromClause], FromClause]


@dataclass(frozen=True)
class Source:
    """Where a report family reads: its table, the column dating a row, the groupings it can offer."""

    table: FromClause
    dated_by: ColumnElement[Any]
    groups: Mapping[str, Grouping]
    instants: bool = True  # False: `dated_by` is a local date, not a UTC instant

    def window_filter(self, window: Window) -> ColumnElement[bool]:
        if self.instants:
            start, end = window.utc_bounds()
            return (self.dated_by >= start) & (self.dated_by < end)
        return (self.dated_by >= window.first) & (self.dated_by <= window.last)


def key_columns(window: Window) -> tuple[str, ...]:
    return (("period",) if window.period != "all" else ()) + (("group",) if window.by else ())


def grouped_rows(connection: Connection, report: str, source: Source, window: Window,
                 measures: Sequence[ColumnElement[Any]], where: ColumnElement[bool] | None = None,
                 split: Sequence[ColumnElement[Any]] = ()) -> list[tuple[Any, ...]]:
    """(keys..., measures...) per period and group, ordered by keys; a grouping the source lacks is refused.
    `split`: further keys after those (a span's state), for a report that pivots them into columns."""
    keys: list[ColumnElement[Any]] = []
    tables = source.table
    if window.period != "all":
        offset = window.utc_offset_minutes if source.instants else 0
        keys.append(period_start(source.dated_by, window.period, offset).label("period"))
    if window.by:
        if window.by not in source.groups:
            raise ValueError(f"report {report} cannot be grouped by {window.by} "
                             f"(it can by: {', '.join(source.groups) or 'nothing'})")
        keys.append(source.groups[window.by].key(window).label("group"))
        tables = source.groups[window.by].join(tables)
    keys += split
    query = select(*keys, *measures).select_from(tables).where(source.window_filter(window))
    if where is not None:
        query = query.where(where)
    if keys:
        query = query.group_by(*keys).order_by(*keys)
    rows = [(*(_plain_key(value) for value in row[:len(keys)]), *row[len(keys):]) for row in connection.execute(query)]
    return sorted(rows, key=lambda row: row[:len(keys)])  # the same order on both databases (NULLs differ)


def _plain_key(value: Any) -> Any:
    """Period keys as ISO dates (SQLite returns text, PostgreSQL dates); groups as text, '-' for none."""
    if value is None:
        return "-"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def ratio(numerator: Any, denominator: Any) -> float | None:
    """numerator / denominator, or None (shown empty) when nothing was counted below it."""
    return float(numerator) / float(denominator) if denominator else None
