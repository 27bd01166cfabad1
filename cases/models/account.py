"""Debts placed with us: one account per creditor reference."""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.models.base import Base, Timestamped, enum_column

if TYPE_CHECKING:
    from cases.models.party import Debtor


class Product(enum.StrEnum):
    CREDIT_CARD = "credit_card"
    CONSUMER_LOAN = "consumer_loan"
    AUTO_LOAN = "auto_loan"
    MORTGAGE = "mortgage"
    MICROLOAN = "microloan"
    BNPL = "bnpl"
    UTILITY = "utility"
    TELECOM = "telecom"
    OTHER = "other"


class AccountStatus(enum.StrEnum):
    OPEN = "open"
    PROMISED = "promised"
    ON_PLAN = "on_plan"
    PAID = "paid"
    SETTLED = "settled"
    RECALLED = "recalled"
    CLOSED = "closed"


class Account(Timestamped, Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("creditor", "account_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    creditor: Mapped[str] = mapped_column(String(100))
    account_ref: Mapped[str] = mapped_column(String(64))
    product: Mapped[Product] = enum_column(Product, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    principal: Mapped[Decimal]
    balance: Mapped[Decimal] = mapped_column(index=True)
    overdue_amount: Mapped[Decimal]
    due_date: Mapped[date | None] = mapped_column(index=True)
    credit_limit: Mapped[Decimal | None]
    jurisdiction: Mapped[str] = mapped_column(String(16), index=True)
    charged_off: Mapped[bool] = mapped_column(default=False)
    time_barred: Mapped[bool] = mapped_column(default=False)
    status: Mapped[AccountStatus] = enum_column(AccountStatus, default=AccountStatus.OPEN, index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))

    debtor: Mapped[Debtor] = relationship(back_populates="accounts")

    def days_past_due(self, today: date) -> int:
        """Days since the oldest unpaid due date; 0 when nothing is overdue."""
        if self.due_date is None or self.overdue_amount <= 0:
            return 0
        return max(0, (today - self.due_date).days)
