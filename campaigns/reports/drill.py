"""Drill-down: the cases behind one bar of a report (one period and one group), names masked for every role
(unmasking is the case page's, where it is audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from campaigns.reports import sources
from campaigns.reports.grouping import Window, period_start
from campaigns.reports.query import Source
from cases.masking import mask_name
from cases.models import Account, Debtor

FAMILY = {"contact": sources.attempts, "channel-mix": sources.attempts, "talk-time": sources.attempts,
          "screening": sources.attempts, "agent-time": sources.promises,
          "promises": sources.promises, "collections": sources.payments,
          **dict.fromkeys(("roll-rates", "cure-rate", "recovery-rate", "liquidation-rate"), sources.snapshots)}


@dataclass(frozen=True)
class CaseBehind:
    account_id: int
    account_ref: str
    creditor: str
    debtor: str  # masked


def cases_behind(connection: Connection, report: str, window: Window, period: date | None, group: str | None,
                 limit: int = 200) -> list[CaseBehind]:
    """Accounts with rows counted in the bar (`period`: the bucket's first day; `group`: the
    grouping's value, '-' for none), by account id."""
    source: Source = FAMILY[report]()
    account_id: Any = source.table.c.account_id
    tables = source.table
    query = select(account_id).where(source.window_filter(window))
    if window.period != "all" and period is not None:
        offset = window.utc_offset_minutes if source.instants else 0
        query = query.where(period_start(source.dated_by, window.period, offset) == period)
    if window.by and group is not None:
        if window.by not in source.groups:
            raise ValueError(f"report {report} cannot be grouped by {window.by}")
        grouping = source.groups[window.by]
        tables = grouping.join(tables)
        column = grouping.key(window)
        query = query.where(column.is_(None) if group == "-" else column == group)
    ids = select(query.select_from(tables).distinct().subquery().c[0].label("id")).subquery()
    rows = connection.execute(select(Account.id, Account.account_ref, Account.creditor, Debtor.full_name)
                              .join(ids, ids.c.id == Account.id).join(Debtor, Debtor.id == Account.debtor_id)
                              .order_by(Account.id).limit(limit))
    return [CaseBehind(row[0], row[1], row[2], mask_name(row[3])) for row in rows]
