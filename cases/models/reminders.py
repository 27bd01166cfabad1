"""The reminders sent (or refused), one row per key `(account_id, rule, due_date, channel)`: what makes a reminder go
out once across runs and restarts (`campaigns.reminders`)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, enum_column, utcnow


class ReminderStatus(enum.StrEnum):
    SENT = "sent"  # the gate allowed it: `attempt_id` is the message
    REFUSED = "refused"  # the gate refused it for good (a hold, no consent, no recipient): never retried
    DEFERRED = "deferred"  # refused for a while (a window, a cap): planned and tried again on a later run


class ReminderSent(Base):
    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("account_id", "rule", "due_date", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    rule: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date]
    channel: Mapped[str] = mapped_column(String(8), default="sms", server_default="sms")  # sms | email
    stage: Mapped[str] = mapped_column(String(32))
    strategy_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[ReminderStatus] = enum_column(ReminderStatus)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    refused_check: Mapped[str | None] = mapped_column(String(64))  # the receipt's first failing check
    reason: Mapped[str | None] = mapped_column(Text)
    tries: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
