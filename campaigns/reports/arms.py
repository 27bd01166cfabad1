"""The strategy report: a campaign's champion and challenger arms side by side, by the arm recorded on each attempt.

Per campaign and arm (attempts the hopper made without a ranking have no arm and are left out):
- cases: accounts the arm dialled in the window; dials: its call attempts; rpc_per_1000_dials: conversations
  per 1,000 of them;
- collected: payments of those cases from the day of their first dial in the window to the window's end;
  collected_per_case: its mean per case;
- for the challenger: difference (challenger minus champion, collected per case) and the 95% Welch interval
  low..high (campaigns.analytics.arms.compare); empty where either arm has fewer than two cases.
Counts and sums per case come from SQL; only the interval is computed here, from the cases' amounts.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Connection, and_, case, func, select

from campaigns.analytics import arms
from campaigns.reports.grouping import Window
from campaigns.reports.table import ReportTable
from cases.models import Attempt, Channel, Payment

COLUMNS = ("campaign", "arm", "cases", "dials", "rpc_per_1000_dials", "collected", "collected_per_case",
           "difference", "low", "high")


def strategy(connection: Connection, window: Window) -> ReportTable:
    if window.by or window.period != "all":
        raise ValueError("report strategy is already split by campaign and arm, over the whole window: "
                         "no period or grouping")
    start, end = window.utc_bounds()
    dialled = (select(Attempt.campaign_id, Attempt.arm, Attempt.account_id,
                      func.count().label("dials"),
                      func.sum(case((Attempt.conversation, 1), else_=0)).label("rpc"),
                      func.min(Attempt.started_at).label("first"))
               .where(Attempt.arm.is_not(None), Attempt.channel == Channel.CALL,
                      Attempt.started_at >= start, Attempt.started_at < end)
               .group_by(Attempt.campaign_id, Attempt.arm, Attempt.account_id).subquery())
    paid = func.coalesce(func.sum(Payment.amount), Decimal("0"))
    rows = connection.execute(
        select(dialled.c.campaign_id, dialled.c.arm, dialled.c.account_id, dialled.c.dials, dialled.c.rpc, paid)
        .select_from(dialled.outerjoin(Payment, and_(Payment.account_id == dialled.c.account_id,
                                                     Payment.paid_on >= func.date(dialled.c.first),
                                                     Payment.paid_on <= window.last)))
        .group_by(dialled.c.campaign_id, dialled.c.arm, dialled.c.account_id, dialled.c.dials, dialled.c.rpc)
        .order_by(dialled.c.campaign_id, dialled.c.arm, dialled.c.account_id)).all()
    by_arm: dict[tuple[int | None, str], list[tuple[int, int, Decimal]]] = {}
    for campaign_id, arm, _, dials, rpc, amount in rows:
        by_arm.setdefault((campaign_id, arm), []).append((int(dials), int(rpc or 0), Decimal(amount)))
    out = []
    order = {arms.CHAMPION: 0, arms.CHALLENGER: 1}
    for (campaign_id, arm), cases in sorted(by_arm.items(),
                                            key=lambda i: (i[0][0] or 0, order.get(i[0][1], 2), i[0][1])):
        dials, rpc = sum(c[0] for c in cases), sum(c[1] for c in cases)
        collected = sum((c[2] for c in cases), Decimal("0"))
        interval: tuple[float | None, ...] = (None, None, None)
        champion = by_arm.get((campaign_id, arms.CHAMPION), [])
        if arm == arms.CHALLENGER and len(champion) >= 2 and len(cases) >= 2:
            c = arms.compare([float(x[2]) for x in champion], [float(x[2]) for x in cases])
            interval = (round(c.difference, 2), round(c.low, 2), round(c.high, 2))
        out.append((campaign_id, arm, len(cases), dials, round(1000 * rpc / dials, 1) if dials else 0.0,
                    collected, round(float(collected) / len(cases), 2), *interval))
    return ReportTable("strategy", COLUMNS, tuple(out))
