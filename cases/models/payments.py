"""Imported payment statement lines: each is matched to an account (and applied) or waits in the unmatched queue."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, enum_column, utcnow


class LineStatus(enum.StrEnum):
    MATCHED = "matched"  # applied automatically by a matching rule
    UNMATCHED = "unmatched"  # waiting for a person
    RESOLVED = "resolved"  # assigned to an account by a person


class StatementLineRow(Base):
    __tablename__ = "statement_lines"
    # the statement's own transaction id: importing the same statement twice adds nothing
    __table_args__ = (UniqueConstraint("source", "txn_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    txn_id: Mapped[str] = mapped_column(String(100))
    paid_at: Mapped[datetime] = mapped_column(DateTime())  # as the statement states it, local time
    amount: Mapped[Decimal]
    payer_name: Mapped[str | None] = mapped_column(String(100))
    memo: Mapped[str | None] = mapped_column(String(255))
    order_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[LineStatus] = enum_column(LineStatus, index=True)
    rule: Mapped[str] = mapped_column(String(24))
    candidates: Mapped[list[Any]] = mapped_column(JSON, default=list)  # account ids a person chooses from
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
