"""The agent state log: how long each agent spent in each state (ready, reserved, on call, wrap-up, paused),
one row per span, opened when the agent enters the state and closed when they leave it; and the seconds of the
closed spans summed by agent, UTC hour (of the span's start) and state, which the agent-time report reads (the
spans grow by some 300 an agent a day: summing them for a quarter took seconds). Both written only by
`campaigns.agent_log` from the desk's `AgentStateChanged` events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base


class AgentStateSpan(Base):
    __tablename__ = "agent_state_spans"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent: Mapped[str] = mapped_column(String(64), index=True)  # the desk's agent id: the user's name
    state: Mapped[str] = mapped_column(String(24))  # a `dialer.agents.AgentState` value
    reason: Mapped[str | None] = mapped_column(String(100))  # a pause's reason code
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]  # None: the agent is in this state now


class AgentStateHour(Base):
    __tablename__ = "agent_state_hours"
    __table_args__ = (Index("ix_agent_state_hours_hour", "hour"),)

    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)  # the UTC hour the spans began in
    state: Mapped[str] = mapped_column(String(24), primary_key=True)
    seconds: Mapped[float] = mapped_column(default=0.0)
