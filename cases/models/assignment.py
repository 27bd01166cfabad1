"""Who works which case: teams, what each agent can take (skills, languages, team, absence), and the case
assignments with their history.

An assignment row is never edited but to end it: a case's current assignment is its row with `ended_at` None,
and a change ends that row and writes the next, so the rows of an account are its history. A row with no
agent is a case waiting in a pool: its team's (a rule matched but nobody of the team can take it now) or the
unassigned pool named by the rules (no rule matched). `receipt` is the rules' explanation of the decision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, JsonDocument, utcnow


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentProfile(Base):
    """What an agent (a `users` row) can take. `absent` is marked by a supervisor (leave, sickness); an agent
    idle for the rules' `inactive_days` is absent too, read from their attempts when the rules run."""

    __tablename__ = "agent_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    skills: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    languages: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    absent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseAssignment(Base):
    __tablename__ = "case_assignments"
    __table_args__ = (Index("ix_case_assignments_account_ended", "account_id", "ended_at"),
                      Index("ix_case_assignments_agent_ended", "agent_id", "ended_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team: Mapped[str | None] = mapped_column(String(64))
    pool: Mapped[str | None] = mapped_column(String(64))  # the case waits here when no agent holds it
    rule: Mapped[str | None] = mapped_column(String(64))  # None: no rule matched
    rules_version: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(40))  # rules, agent_absent, ...
    receipt: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
