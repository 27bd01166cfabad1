"""Screening findings per 100 calls: how often the screener flags what agents say.

Over call attempts answered by a person (`outcome = answered`) started in the window:
- calls: those attempts; findings: screening findings saved on them (any status, any category);
- findings_per_100_calls = 100 * findings / calls.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from campaigns.reports import sources
from campaigns.reports.grouping import Window
from campaigns.reports.query import grouped_rows, key_columns, ratio
from campaigns.reports.table import ReportTable
from cases.models import Attempt, AttemptOutcome, Channel, ScreeningFinding


def findings_per_call(connection: Connection, window: Window) -> ReportTable:
    on_attempt = (select(func.count()).where(ScreeningFinding.attempt_id == Attempt.id)
                  .correlate(Attempt.__table__).scalar_subquery())
    rows = grouped_rows(connection, "screening", sources.attempts(), window,
                        [func.count(), func.coalesce(func.sum(on_attempt), 0)],
                        where=(Attempt.channel == Channel.CALL) & (Attempt.outcome == AttemptOutcome.ANSWERED))
    keys = len(key_columns(window))
    out = []
    for row in rows:
        calls, findings = int(row[keys]), int(row[keys + 1])
        per_100 = ratio(100 * findings, calls)
        out.append((*row[:keys], calls, findings, per_100))
    return ReportTable("screening", (*key_columns(window), "calls", "findings", "findings_per_100_calls"), tuple(out))
