"""Failed identity verifications by the IVR, kept so that a lockout spans calls and survives a restart.

One row per failed try and subject: the calling number once, and each account the caller tried to verify
as. `ivr.verification` counts a subject's rows inside its window; rows older than the window are pruned
when the subject fails again. The audit log keeps the history (with the number masked); this table is only
the counter; its key (the number, or the account tried) is sealed like the phones table's numbers.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index
from sqlalchemy.orm import Mapped, mapped_column

from cases.models.base import Base, enum_column
from cases.models.sealed import SealedString

KEY_LENGTH = 32  # a calling number is whatever the far end put in From: longer ones are cut to this


class VerificationSubject(enum.StrEnum):
    ACCOUNT = "account"  # key: the account id
    CALLER = "caller"  # key: the calling number (E.164; empty when withheld)


class VerificationFailure(Base):
    __tablename__ = "verification_failures"
    __table_args__ = (Index("ix_verification_failures_subject_key_at", "subject", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[VerificationSubject] = enum_column(VerificationSubject)
    key: Mapped[str] = mapped_column(SealedString(KEY_LENGTH))
    at: Mapped[datetime]
