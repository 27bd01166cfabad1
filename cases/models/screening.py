"""Screening findings and reviewers' decisions (migration 0003_screening); `compliance.screening` fills them.

A finding is one category in one utterance of a call (or one disclosure a call lacked), with the speaker,
the audio time and the character span a reviewer needs to jump to it. Its status follows the latest review.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, enum_column, utcnow


class FindingStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false_positive"
    NEEDS_COACHING = "needs_coaching"


class Decision(enum.StrEnum):
    CONFIRMED = "confirmed"
    FALSE_POSITIVE = "false_positive"
    NEEDS_COACHING = "needs_coaching"


class ScreeningFinding(Base):
    __tablename__ = "screening_findings"
    __table_args__ = (Index("ix_screening_findings_status_severity", "status", "severity_rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    category: Mapped[str] = mapped_column(String(24), index=True)  # a compliance.screening Category value
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int]  # 4 critical .. 1 low, for ordering the queue
    speaker: Mapped[str] = mapped_column(String(16))
    utterance_id: Mapped[str | None] = mapped_column(String(64))
    start_s: Mapped[float | None] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float)
    span_start: Mapped[int | None]
    span_end: Mapped[int | None]
    excerpt: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(120))  # the lexicon rule, model version or disclosure element
    ruleset: Mapped[str] = mapped_column(String(200))  # versions of every lexicon and the model used
    status: Mapped[FindingStatus] = enum_column(FindingStatus, default=FindingStatus.OPEN, index=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ScreeningReview(Base):
    __tablename__ = "screening_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("screening_findings.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    decision: Mapped[Decision] = enum_column(Decision)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
