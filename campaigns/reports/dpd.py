"""Days-past-due bucket and region of an account, as SQL expressions, for grouping reports and writing the daily
DPD snapshot: one definition, the buckets of `cases.dpd` (the segments' vocabulary).

An account is `current` when nothing is overdue (no due date, no overdue amount, or due on or after the day);
otherwise its bucket is the one holding the days from its due date to the day.
"""

from __future__ import annotations

from datetime import date, timedelta
from sqlalchemy import FromClause, case, func, or_, select
from sqlalchemy.sql.expression import ColumnElement

from cases.dpd import DPD_BUCKETS
from cases.models import Account, Address


def dpd_bucket(as_of: date) -> ColumnElement[str]:
    """The name of `Account`'s DPD bucket on the local day `as_of` (the buckets are listed in ascending order)."""
    whens: list[tuple[ColumnElement[bool], str]] = []
    for name, (_low, high) in DPD_BUCKETS.items():
        if high == 0:
            whens.append((or_(Account.overdue_amount <= 0, Account.due_date.is_(None), Account.due_date >= as_of),
                          name))
        elif high is not None:
            whens.append((Account.due_date >= as_of - timedelta(days=high), name))
    return case(*whens, else_=next(name for name, (_low, high) in DPD_BUCKETS.items() if high is None))


def regions() -> FromClause:
    """One region per debtor (the first by name of its addresses'), joined on `debtor_id`."""
    return (select(Address.debtor_id.label("debtor_id"), func.min(Address.region).label("region"))
            .group_by(Address.debtor_id).subquery("debtor_region"))
