"""Escalation tasks for agents: what the reminder strategy's escalation steps ask a person to do about a case
(call back, review the plan), one per (account, rule, due date) however often the scheduler runs. A task lands on
the queue of the agent the case is assigned to when it is created (`agent_id`), or its pool's when no agent
holds the case; it stays open until someone closes it as done."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, enum_column, utcnow


class TaskStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


class AgentTask(Base):
    __tablename__ = "agent_tasks"
    __table_args__ = (UniqueConstraint("account_id", "rule", "due_date"),
                      Index("ix_agent_tasks_agent_status", "agent_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    rule: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date]  # the rule's anchor date (the account's oldest unpaid due date for a past-due step)
    stage: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pool: Mapped[str | None] = mapped_column(String(64))  # the case's pool when no agent held it
    status: Mapped[TaskStatus] = enum_column(TaskStatus, default=TaskStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
