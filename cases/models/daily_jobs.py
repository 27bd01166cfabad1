"""The daily jobs done, one row per (job, local day): what makes `dunline serve`'s daily report jobs (the DPD
snapshot, the managers' summary) run once a day across restarts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, utcnow


class DailyJobRun(Base):
    __tablename__ = "daily_job_runs"

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    done_at: Mapped[datetime] = mapped_column(default=utcnow)
