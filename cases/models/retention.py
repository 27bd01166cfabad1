"""The destruction log: what the retention job (`campaigns.destruction`) destroyed, one row per batch of one
record kind under one jurisdiction's policy, with the count, an anonymous tally (how many of each channel and
outcome, or of accounts, debtors and attempts) and the law it applied. Written in the transaction that destroys
what it records, beside an audit-chain entry naming it, so the two cannot disagree with the store.

And the indexes the job's deletes need: deleting a row makes the database look for rows still referring to it
through each foreign key, which without an index on the referring column is a scan of that table per row
deleted (erasing a thousand closed cases scanned the attempts table a thousand times, once per phone)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, JsonDocument, utcnow
from cases.models.contact import Attempt, Note
from cases.models.payments import StatementLineRow
from cases.models.reminders import ReminderSent
from cases.models.screening import ScreeningFinding


class DestructionLog(Base):
    __tablename__ = "destruction_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_at: Mapped[datetime] = mapped_column(index=True)  # the job's clock: when the records were due by
    kind: Mapped[str] = mapped_column(String(24))  # a `recordings.retention.RecordKind` value
    jurisdiction: Mapped[str] = mapped_column(String(16))
    count: Mapped[int]
    tally: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)  # no identifiers, only counts
    policies: Mapped[str] = mapped_column(String(32))  # the retention.yaml version
    keep_days: Mapped[int]
    source: Mapped[str] = mapped_column(Text)  # the law, as the policy cites it
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


RETENTION_INDEXES = (
    Index("ix_attempts_phone_id", Attempt.phone_id),  # phones deleted with their debtor
    Index("ix_notes_attempt_id", Note.attempt_id),  # attempts deleted
    Index("ix_reminders_sent_attempt_id", ReminderSent.attempt_id),
    Index("ix_statement_lines_payment_id", StatementLineRow.payment_id),  # payments deleted with their case
    Index("ix_screening_findings_hold_id", ScreeningFinding.hold_id),  # holds deleted with their case
)
