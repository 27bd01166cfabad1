"""Agent time on calls, from the attempts the store records (no pause/wrap clock is stored yet).

Over call attempts with an agent, answered in the window:
- calls: answered calls an agent took; talk_seconds: their summed answered-to-ended time (ended calls only);
- avg_talk_seconds = talk_seconds / calls that ended.
"""

from __future__ import annotations

from sqlalchemy import Connection, case, func

from campaigns.reports import sources
from campaigns.reports.grouping import Window, seconds_between
from campaigns.reports.query import grouped_rows, key_columns, ratio
from campaigns.reports.table import ReportTable
from cases.models import Attempt, Channel


def talk_time(connection: Connection, window: Window) -> ReportTable:
    talked = seconds_between(Attempt.answered_at, Attempt.ended_at)
    rows = grouped_rows(connection, "talk-time", sources.attempts(), window, [
        func.count(), func.coalesce(func.sum(case((Attempt.ended_at.is_not(None), 1), else_=0)), 0),
        func.coalesce(func.sum(talked), 0.0)],
        where=(Attempt.channel == Channel.CALL) & Attempt.agent_id.is_not(None) & Attempt.answered_at.is_not(None))
    keys = len(key_columns(window))
    out = []
    for row in rows:
        calls, ended, seconds = int(row[keys]), int(row[keys + 1]), round(float(row[keys + 2]))
        out.append((*row[:keys], calls, seconds, ratio(seconds, ended)))
    return ReportTable("talk-time", (*key_columns(window), "calls", "talk_seconds", "avg_talk_seconds"), tuple(out))
