"""Reporting windows, period buckets and groupings, as SQL expressions that mean the same on SQLite and PostgreSQL.

Instants are stored as naive UTC; a window's days are local days `utc_offset_minutes` east of UTC (480: Beijing),
so a call at 23:30 UTC on the 1st counts on the 2nd in Beijing. Columns holding a date (a payment's `paid_on`)
are already local and are bucketed as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

PERIODS = ("day", "week", "month", "all")
GROUPINGS = ("campaign", "agent", "team", "creditor", "product", "region", "dpd", "channel")


@dataclass(frozen=True)
class Window:
    """The local days `first`..`last` (both included), bucketed by `period`, grouped by `by` (or not at all)."""

    first: date
    last: date
    period: str = "all"
    by: str | None = None
    utc_offset_minutes: int = 0

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"--to {self.last} is before --from {self.first}")
        if self.period not in PERIODS:
            raise ValueError(f"period {self.period!r} is not one of {', '.join(PERIODS)}")
        if self.by is not None and self.by not in GROUPINGS:
            raise ValueError(f"--by {self.by!r} is not one of {', '.join(GROUPINGS)}")

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """The window as half-open UTC instants [start, end), aware as the store returns them."""
        shift = timedelta(minutes=self.utc_offset_minutes)
        start = datetime.combine(self.first, time(), timezone.utc) - shift
        return start, datetime.combine(self.last + timedelta(days=1), time(), timezone.utc) - shift


def local_day(now: datetime, utc_offset_minutes: int) -> date:
    """The local day holding the instant `now`."""
    return (now + timedelta(minutes=utc_offset_minutes)).date()


class period_start(FunctionElement[Any]):  # noqa: N801 - an SQL function, named like one
    """The first local day of the day/week (Monday)/month holding a timestamp or date column."""

    type = Date()
    inherit_cache = False  # period and offset are compiled in as text, so a cached statement must not be reused

    def __init__(self, column: ColumnElement[Any], period: str, offset_minutes: int) -> None:
        self.period = period
        self.offset_minutes = offset_minutes
        super().__init__(column)


@compiles(period_start, "sqlite")
def _sqlite_period_start(element: period_start, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    shift = f", '{element.offset_minutes:+d} minutes'" if element.offset_minutes else ""
    modifier = {"day": "", "week": ", 'weekday 0', '-6 days'", "month": ", 'start of month'"}[element.period]
    return f"date({column}{shift}{modifier})"


@compiles(period_start, "postgresql")
def _pg_period_start(element: period_start, compiler: Any, **kw: Any) -> str:
    column = compiler.process(list(element.clauses)[0], **kw)
    if element.offset_minutes:
        column = f"({column} + interval '{element.offset_minutes:d} minutes')"
    return f"CAST(date_trunc('{element.period}', {column}) AS DATE)"


class seconds_between(FunctionElement[Any]):  # noqa: N801 - an SQL function, named like one
    """Seconds from the first timestamp to the second (NULL if either is NULL)."""

    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _sqlite_seconds(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _pg_seconds(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"
