"""Portfolio reports from the daily DPD snapshot (`campaigns.reports.snapshot`): how the book moves between
DPD buckets, and what share of it is collected. Each compares the snapshots of the window's first and last
days (`--from`, `--to`), so they take no period (`period = all`).

roll-rates: of the accounts in bucket `from_bucket` on --from, how many are in `to_bucket` on --to
  (`closed`: no longer in the open book: paid, settled, recalled or closed); share = accounts / accounts in
  `from_bucket` on --from (of the same group). A heatmap of `share` is the roll-rate matrix.
cure-rate: delinquent = accounts not current on --from; cured = of those, current on --to; closed = of those,
  out of the open book on --to; cure_rate = cured / delinquent.
recovery-rate: the accounts placed in the window (their first snapshot, marked `placed`, falls in it: placement,
  or the day snapshots began for older accounts); placed_balance = their balance that day; collected = their payments from
  that day to --to; recovery_rate = collected / placed_balance.
liquidation-rate: opening_balance = balances in the --from snapshot; new_placements = balances of accounts
  placed later in the window (first snapshot after --from); collected = payments in the window on those
  accounts; liquidation_rate = collected / (opening_balance + new_placements).
Grouped by creditor, product, region or DPD bucket (on --from; for recovery, on the day placed).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, FromClause, and_, case, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ColumnElement

from campaigns.reports import sources
from campaigns.reports.grouping import Window
from campaigns.reports.money import cents
from campaigns.reports.query import Source, key_columns, ratio
from campaigns.reports.table import ReportTable
from cases.dpd import DPD_BUCKETS
from cases.models import DpdSnapshot, Payment

CLOSED = "closed"
CURRENT = next(name for name, (_low, high) in DPD_BUCKETS.items() if high == 0)
BUCKET_ORDER = {name: index for index, name in enumerate((*DPD_BUCKETS, CLOSED))}


def _grouped(report: str, window: Window, source: Source, tables: FromClause
             ) -> tuple[list[ColumnElement[Any]], FromClause]:
    if window.period != "all":
        raise ValueError(f"report {report} compares --from with --to: it takes no period (use period all)")
    if window.by is None:
        return [], tables
    if window.by not in source.groups:
        raise ValueError(f"report {report} cannot be grouped by {window.by} "
                         f"(it can by: {', '.join(source.groups)})")
    grouping = source.groups[window.by]
    return [grouping.key(window).label("group")], grouping.join(tables)


def _group_key(value: Any) -> str:
    return "-" if value is None else str(value)


def _start_and_end(window: Window) -> tuple[Any, FromClause]:
    """The --from snapshot joined to the same accounts' --to snapshot (absent: out of the book)."""
    end = aliased(DpdSnapshot, name="end_snapshot")
    tables = DpdSnapshot.__table__.outerjoin(
        end, and_(end.account_id == DpdSnapshot.account_id, end.day == window.last))
    return end, tables


def roll_rates(connection: Connection, window: Window) -> ReportTable:
    end, tables = _start_and_end(window)
    keys, tables = _grouped("roll-rates", window, sources.snapshots(), tables)
    to_bucket = func.coalesce(end.dpd_bucket, CLOSED)
    query = (select(*keys, DpdSnapshot.dpd_bucket, to_bucket, func.count()).select_from(tables)
             .where(DpdSnapshot.day == window.first).group_by(*keys, DpdSnapshot.dpd_bucket, to_bucket))
    counted = [(*(_group_key(k) for k in row[:len(keys)]), row[len(keys)], row[len(keys) + 1], int(row[-1]))
               for row in connection.execute(query)]
    totals: dict[tuple[Any, ...], int] = {}
    for row in counted:
        totals[row[:-2]] = totals.get(row[:-2], 0) + row[-1]
    counted.sort(key=lambda row: (row[:len(keys)], BUCKET_ORDER.get(row[-3], 99), BUCKET_ORDER.get(row[-2], 99)))
    out = tuple((*row, ratio(row[-1], totals[row[:-2]])) for row in counted)
    return ReportTable("roll-rates", (*key_columns(window), "from_bucket", "to_bucket", "accounts", "share"), out)


def cure_rate(connection: Connection, window: Window) -> ReportTable:
    end, tables = _start_and_end(window)
    keys, tables = _grouped("cure-rate", window, sources.snapshots(), tables)
    query = (select(*keys, func.count(), func.coalesce(func.sum(case((end.dpd_bucket == CURRENT, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((end.id.is_(None), 1), else_=0)), 0))
             .select_from(tables).where((DpdSnapshot.day == window.first) & (DpdSnapshot.dpd_bucket != CURRENT)))
    if keys:
        query = query.group_by(*keys)
    out = []
    for row in connection.execute(query):
        delinquent, cured, closed = (int(value) for value in row[len(keys):])
        out.append((*(_group_key(k) for k in row[:len(keys)]), delinquent, cured, closed, ratio(cured, delinquent)))
    return ReportTable("cure-rate", (*key_columns(window), "delinquent", "cured", "closed", "cure_rate"),
                       tuple(sorted(out, key=lambda row: row[:len(keys)])))


def _paid_since_placed(window: Window) -> FromClause:
    """Per snapshot row of an account placed in the window: its payments from that day to --to (summed per row
    before the join, so a row is counted once however many payments it has)."""
    return (select(DpdSnapshot.id.label("id"), func.sum(Payment.amount).label("amount"))
            .join(Payment, (Payment.account_id == DpdSnapshot.account_id) & (Payment.paid_on >= DpdSnapshot.day)
                  & (Payment.paid_on <= window.last))
            .where(DpdSnapshot.placed.is_(True) & (DpdSnapshot.day >= window.first) & (DpdSnapshot.day <= window.last))
            .group_by(DpdSnapshot.id).subquery("paid"))


def _paid_in_window(window: Window) -> FromClause:
    """Per account: its payments in the window."""
    return (select(Payment.account_id.label("account_id"), func.sum(Payment.amount).label("amount"))
            .where((Payment.paid_on >= window.first) & (Payment.paid_on <= window.last))
            .group_by(Payment.account_id).subquery("paid"))


def recovery_rate(connection: Connection, window: Window) -> ReportTable:
    paid = _paid_since_placed(window)
    keys, tables = _grouped("recovery-rate", window, sources.snapshots(),
                            DpdSnapshot.__table__.outerjoin(paid, paid.c.id == DpdSnapshot.id))
    query = (select(*keys, func.count(), func.coalesce(func.sum(DpdSnapshot.balance), Decimal("0")),
                    func.coalesce(func.sum(paid.c.amount), Decimal("0")))
             .select_from(tables).where(DpdSnapshot.placed.is_(True) & (DpdSnapshot.day >= window.first)
                                        & (DpdSnapshot.day <= window.last)))
    if keys:
        query = query.group_by(*keys)
    out = []
    for row in connection.execute(query):
        accounts, balance, collected = int(row[len(keys)]), cents(row[len(keys) + 1]), cents(row[len(keys) + 2])
        out.append((*(_group_key(k) for k in row[:len(keys)]), accounts, balance, collected,
                    ratio(collected, balance)))
    return ReportTable("recovery-rate", (*key_columns(window), "accounts", "placed_balance", "collected",
                                         "recovery_rate"), tuple(sorted(out, key=lambda row: row[:len(keys)])))


def liquidation_rate(connection: Connection, window: Window) -> ReportTable:
    paid = _paid_in_window(window)
    keys, tables = _grouped("liquidation-rate", window, sources.snapshots(),
                            DpdSnapshot.__table__.outerjoin(paid, paid.c.account_id == DpdSnapshot.account_id))
    opening = DpdSnapshot.day == window.first
    new = DpdSnapshot.placed.is_(True) & (DpdSnapshot.day > window.first) & (DpdSnapshot.day <= window.last)
    zero = Decimal("0")
    query = (select(*keys, func.coalesce(func.sum(case((opening, DpdSnapshot.balance), else_=zero)), zero),
                    func.coalesce(func.sum(case((new, DpdSnapshot.balance), else_=zero)), zero),
                    func.coalesce(func.sum(paid.c.amount), zero))
             .select_from(tables).where(opening | new))
    if keys:
        query = query.group_by(*keys)
    out = []
    for row in connection.execute(query):
        opened, added, collected = (cents(value) for value in row[len(keys):])
        out.append((*(_group_key(k) for k in row[:len(keys)]), opened, added, collected,
                    ratio(collected, opened + added)))
    return ReportTable("liquidation-rate", (*key_columns(window), "opening_balance", "new_placements", "collected",
                                            "liquidation_rate"), tuple(sorted(out, key=lambda row: row[:len(keys)])))
