"""Money reports: promises to pay made and kept, payments collected.

promises (dated by when the promise was made):
- promised: promises made; amount_promised: their sum.
- kept / broken: of those, how many are now kept or broken (pending and cancelled are neither).
- kept_rate = kept / (kept + broken): of the promises whose date has been settled, the share kept.
- amount_kept: the sum of the kept ones.

collections (dated by the local day paid):
- payments: payments received; collected: their sum.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Connection, case, func

from campaigns.reports import sources
from campaigns.reports.grouping import Window
from campaigns.reports.query import grouped_rows, key_columns, ratio
from campaigns.reports.table import ReportTable
from cases.models import Payment, Promise, PromiseStatus


def promises(connection: Connection, window: Window) -> ReportTable:
    zero = Decimal("0")
    rows = grouped_rows(connection, "promises", sources.promises(), window, [
        func.count(), func.coalesce(func.sum(Promise.amount), zero),
        func.coalesce(func.sum(case((Promise.status == PromiseStatus.KEPT, 1), else_=0)), 0),
        func.coalesce(func.sum(case((Promise.status == PromiseStatus.BROKEN, 1), else_=0)), 0),
        func.coalesce(func.sum(case((Promise.status == PromiseStatus.KEPT, Promise.amount), else_=zero)), zero)])
    keys = len(key_columns(window))
    out = []
    for row in rows:
        promised, amount, kept, broken, amount_kept = row[keys:]
        out.append((*row[:keys], int(promised), cents(amount), int(kept), int(broken), ratio(kept, kept + broken),
                    cents(amount_kept)))
    return ReportTable("promises", (*key_columns(window), "promised", "amount_promised", "kept", "broken",
                                    "kept_rate", "amount_kept"), tuple(out))


def collections(connection: Connection, window: Window) -> ReportTable:
    rows = grouped_rows(connection, "collections", sources.payments(), window,
                        [func.count(), func.coalesce(func.sum(Payment.amount), Decimal("0"))])
    keys = len(key_columns(window))
    out = [(*row[:keys], int(row[keys]), cents(row[keys + 1])) for row in rows]
    return ReportTable("collections", (*key_columns(window), "payments", "collected"), tuple(out))


def cents(amount: object) -> Decimal:
    """A sum as money (two places), whatever scale the database returns an empty sum's zero in."""
    return Decimal(str(amount)).quantize(Decimal("0.01"))
