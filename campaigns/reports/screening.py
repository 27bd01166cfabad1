"""Screening findings per 100 calls: how often the screener flags what agents say.

Over call attempts answered by a person (`outcome = answered`) started in the window:
- calls: those attempts; findings: screening findings saved on them (any status, any category);
- findings_per_100_calls = 100 * findings / calls.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, func, select

from campaigns.reports import sources
from campaigns.reports.grouping import Window
from campaigns.reports.query import grouped_rows, key_columns, ratio
from campaigns.reports.table import ReportTable
from cases.models import Attempt, AttemptOutcome, Channel, ScreeningFinding


def findings_per_call(connection: Connection, window: Window) -> ReportTable:
    # findings counted per attempt once and joined, not a correlated count probed for every answered call
    found = (select(ScreeningFinding.attempt_id, func.count().label("findings"))
             .group_by(ScreeningFinding.attempt_id).subquery())
    source = sources.attempts()
    source = replace(source, table=source.table.outerjoin(found, found.c.attempt_id == Attempt.id))
    rows = grouped_rows(connection, "screening", source, window,
                        [func.count(), func.coalesce(func.sum(found.c.findings), 0)],
                        where=(Attempt.channel == Channel.CALL) & (Attempt.outcome == AttemptOutcome.ANSWERED))
    keys = len(key_columns(window))
    out = []
    for row in rows:
        calls, findings = int(row[keys]), int(row[keys + 1])
        per_100 = ratio(100 * findings, calls)
        out.append((*row[:keys], calls, findings, per_100))
    return ReportTable("screening", (*key_columns(window), "calls", "findings", "findings_per_100_calls"), tuple(out))
