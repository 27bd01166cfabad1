"""The daily DPD snapshot: each open account's days-past-due bucket and balance on a local day, one row per
(day, account), written by `campaigns.reports.snapshot` and read by the roll, cure, recovery and liquidation
reports (the accounts table holds only today's figures, so history has to be kept)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base


class DpdSnapshot(Base):
    __tablename__ = "dpd_snapshots"
    __table_args__ = (UniqueConstraint("day", "account_id"), Index("ix_dpd_snapshots_placed_day", "placed", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    dpd_bucket: Mapped[str] = mapped_column(String(16))  # a name of `cases.dpd.DPD_BUCKETS`
    balance: Mapped[Decimal]
    # the account's first snapshot: the day it entered the book (placed, or snapshots began), so that the
    # recovery and liquidation rates find placements without scanning every day before the window
    placed: Mapped[bool] = mapped_column(default=False)
