"""Agent time from the agent state log's hourly sums (`cases.models.AgentStateHour`), and what it brought in.

Over the spans that began in the window and have ended (the state an agent is in now counts once they leave
it), each counted whole in the hour, so on the local day, it began (a zone whose offset is not whole hours
places the spans of a boundary hour on the day of its UTC hour's start):
- logged_in_seconds: every state between log-in and log-out; ready_seconds: ready or reserved for a call;
  talk_seconds: on a call; wrap_seconds: wrapping up; pause_seconds: paused.
- occupancy = (talk + wrap) / (talk + wrap + ready): the share of the time available for calls spent on them.
- collected: the amount of the promises the agent took in the window that are kept (a payment is not credited
  to an agent; a kept promise is);
  collected_per_agent_hour = collected / logged-in hours.
Grouped by agent or team (or all agents together).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func

from campaigns.reports import sources
from campaigns.reports.grouping import Window
from campaigns.reports.money import cents
from campaigns.reports.query import grouped_rows, key_columns, ratio
from campaigns.reports.table import ReportTable
from cases.models import AgentStateHour, Promise, PromiseStatus
from dialer.agents import AgentState

STATES = {"ready": (AgentState.READY, AgentState.RESERVED), "talk": (AgentState.ON_CALL,),
          "wrap": (AgentState.WRAP_UP,), "pause": (AgentState.PAUSED,)}


def agent_time(connection: Connection, window: Window) -> ReportTable:
    spans = grouped_rows(connection, "agent-time", sources.agent_hours(), window,
                         [func.coalesce(func.sum(AgentStateHour.seconds), 0.0)], split=[AgentStateHour.state])
    kept = grouped_rows(connection, "agent-time", sources.promises(), window,
                        [func.coalesce(func.sum(Promise.amount), Decimal("0"))],
                        where=Promise.status == PromiseStatus.KEPT)
    keys = len(key_columns(window))
    collected: dict[tuple[Any, ...], Decimal] = {row[:keys]: cents(row[keys]) for row in kept}
    in_state: dict[tuple[Any, ...], dict[str, float]] = {}
    for row in spans:
        in_state.setdefault(row[:keys], {})[row[keys]] = float(row[keys + 1])
    out = []
    for key, states in in_state.items():
        ready, talk, wrap, pause = (round(sum(states.get(s.value, 0.0) for s in members))
                                    for members in STATES.values())
        logged = round(sum(states.values()))
        amount = collected.get(key, cents(0))
        out.append((*key, logged, ready, talk, wrap, pause, ratio(talk + wrap, talk + wrap + ready), amount,
                    None if not logged else cents(amount * 3600 / Decimal(logged))))
    return ReportTable("agent-time", (*key_columns(window), "logged_in_seconds", "ready_seconds", "talk_seconds",
                                      "wrap_seconds", "pause_seconds", "occupancy", "collected",
                                      "collected_per_agent_hour"), tuple(out))
