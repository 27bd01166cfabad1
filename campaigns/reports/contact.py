"""Contact funnel of calls: dials, people reached, right parties, promises, abandons.

Counted over call attempts (`channel = call`) started in the window:
- dials: call attempts placed (any outcome, in-flight included).
- contacts: a person answered (`answered`, or `abandoned`: answered but no agent came).
- rpc (right-party contacts): attempts where the debtor was spoken to (`conversation`).
- ptp: attempts that produced at least one promise to pay.
- contact_rate = contacts / dials; rpc_rate = rpc / dials; ptp_rate = ptp / rpc.
- abandon_rate = abandoned / contacts, i.e. abandoned among live-answered calls. Ofcom measures it per call
  centre per 24 hours (group by day), the FCC per campaign over 30 days (group by campaign, period month);
  machine-answered calls are in neither numerator nor denominator here (Ofcom's AMD estimate is not applied).
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, case, func, select
from sqlalchemy.sql.expression import ColumnElement

from campaigns.reports import sources
from campaigns.reports.grouping import Window
from campaigns.reports.query import grouped_rows, key_columns, ratio
from campaigns.reports.table import ReportTable
from cases.models import Attempt, AttemptOutcome, Channel, Promise


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def contact(connection: Connection, window: Window) -> ReportTable:
    live = Attempt.outcome.in_([AttemptOutcome.ANSWERED, AttemptOutcome.ABANDONED])
    # joined once rather than an EXISTS per attempt: PostgreSQL runs a correlated EXISTS inside SUM(CASE) as a
    # subplan probed for every attempt in the window
    promised = select(Promise.attempt_id).where(Promise.attempt_id.is_not(None)).distinct().subquery()
    source = sources.attempts()
    source = replace(source, table=source.table.outerjoin(promised, promised.c.attempt_id == Attempt.id))
    rows = grouped_rows(connection, "contact", source, window, [
        func.count(), _count(live), _count(Attempt.conversation.is_(True)),
        _count(promised.c.attempt_id.is_not(None)),
        _count(Attempt.outcome == AttemptOutcome.ABANDONED)], where=Attempt.channel == Channel.CALL)
    keys = len(key_columns(window))
    out = []
    for row in rows:
        dials, contacts, rpc, ptp, abandoned = (int(value) for value in row[keys:])
        out.append((*row[:keys], dials, contacts, rpc, ptp, abandoned, ratio(contacts, dials), ratio(rpc, dials),
                    ratio(ptp, rpc), ratio(abandoned, contacts)))
    return ReportTable("contact", (*key_columns(window), "dials", "contacts", "rpc", "ptp", "abandoned",
                                   "contact_rate", "rpc_rate", "ptp_rate", "abandon_rate"), tuple(out))


def channel_mix(connection: Connection, window: Window) -> ReportTable:
    """Attempts per channel (call, sms, email) and each channel's share of all attempts in the same period and
    group: share = attempts on the channel / attempts on every channel."""
    if window.by == "channel":
        raise ValueError("report channel-mix is already split by channel: group it by something else")
    source = sources.attempts()
    rows = grouped_rows(connection, "channel-mix", source, window, [
        _count(Attempt.channel == channel) for channel in Channel])
    keys = len(key_columns(window))
    out = []
    for row in rows:
        counts = [int(value) for value in row[keys:]]
        total = sum(counts)
        out.append((*row[:keys], total, *counts, *(ratio(count, total) for count in counts)))
    return ReportTable("channel-mix", (*key_columns(window), "attempts", *(c.value for c in Channel),
                                       *(f"{c.value}_share" for c in Channel)), tuple(out))
