"""Money owed back: promises to pay, repayment plans with instalments, and payments received."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.models.base import Base, enum_column, utcnow


class Source(enum.StrEnum):
    AGENT = "agent"
    IVR = "ivr"
    WEB = "web"
    IMPORT = "import"


class PromiseStatus(enum.StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    PARTLY_KEPT = "partly_kept"  # settled after date + grace with part of the amount paid (cases/settlement.py)
    BROKEN = "broken"
    CANCELLED = "cancelled"


class PlanStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    COMPLETED = "completed"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class InstallmentStatus(enum.StrEnum):
    DUE = "due"
    PAID = "paid"
    PARTIAL = "partial"
    MISSED = "missed"


class PaymentChannel(enum.StrEnum):
    BANK_TRANSFER = "bank_transfer"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    COUNTER = "counter"
    CARD = "card"
    OTHER = "other"


class Promise(Base):
    __tablename__ = "promises"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    amount: Mapped[Decimal]
    promised_for: Mapped[date]
    source: Mapped[Source] = enum_column(Source)
    status: Mapped[PromiseStatus] = enum_column(PromiseStatus, default=PromiseStatus.PENDING)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RepaymentPlan(Base):
    __tablename__ = "repayment_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    total_amount: Mapped[Decimal]
    installment_count: Mapped[int]
    source: Mapped[Source] = enum_column(Source)
    status: Mapped[PlanStatus] = enum_column(PlanStatus, default=PlanStatus.PROPOSED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    installments: Mapped[list[Installment]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="Installment.seq"
    )


class Installment(Base):
    __tablename__ = "installments"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("repayment_plans.id", ondelete="CASCADE"))
    seq: Mapped[int]
    due_date: Mapped[date]
    amount: Mapped[Decimal]
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    status: Mapped[InstallmentStatus] = enum_column(InstallmentStatus, default=InstallmentStatus.DUE)

    plan: Mapped[RepaymentPlan] = relationship(back_populates="installments")


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("channel", "external_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[Decimal]
    paid_on: Mapped[date]
    channel: Mapped[PaymentChannel] = enum_column(PaymentChannel)
    external_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
